package io.mlgateway.shared.testing;

import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** Sample names and metric families of a Prometheus text exposition. */
public final class Exposition {

    private static final Pattern SUFFIX = Pattern.compile("_(?:bucket|count|sum|total|max|created|gcount|gsum)$");

    public final Set<String> samples = new TreeSet<>();
    public final Set<String> families = new TreeSet<>();

    public static Exposition parse(String text) {
        Exposition exposition = new Exposition();
        for (String line : text.split("\n")) {
            if (line.startsWith("# TYPE ") || line.startsWith("# HELP ")) {
                String name = line.substring(7).split(" ", 2)[0];
                exposition.families.add(name);
                exposition.families.add(base(name));
            } else if (!line.isBlank() && !line.startsWith("#")) {
                String name = line.split("[{ ]", 2)[0];
                exposition.samples.add(name);
                exposition.families.add(base(name));
            }
        }
        return exposition;
    }

    public static String base(String name) {
        return SUFFIX.matcher(name).replaceFirst("");
    }

    /** The names a query would find no series for. */
    public Set<String> missing(Set<String> names) {
        return names.stream().filter(n -> !samples.contains(n)).collect(Collectors.toCollection(TreeSet::new));
    }

    /** Whether the family of {@code name} is exposed, under other sample names. */
    public boolean hasFamilyOf(String name) {
        return families.contains(base(name));
    }

    /** The exposed samples of the families of {@code names}. */
    public Set<String> familySamples(Set<String> names) {
        Set<String> bases = names.stream().map(Exposition::base).collect(Collectors.toSet());
        return samples.stream().filter(s -> bases.contains(base(s))).collect(Collectors.toCollection(TreeSet::new));
    }
}

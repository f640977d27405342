package io.mlgateway.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every SQL statement the gateway and the retrainer send is built from constants only; values travel as bind
 * parameters ({@code $1}…). Read from the sources: the text given to {@code DatabaseClient.sql(…)} and
 * {@code Connection.createStatement(…)}, with its string literals removed, may name only constants
 * ({@code UPPER_CASE}) and {@code formatted}, plus the few local variables listed below, each of which only ever
 * holds one of the literals written next to its call.
 */
class QueryParametersTest {

    private static final List<Path> SOURCES = List.of(Path.of("src/main/java"), Path.of("../gateway/shared/src/main/java"),
            Path.of("../retrainer/src/main/java"));

    /** File name → local variables allowed in its SQL, each chosen among literals in the same file. */
    private static final Map<String, Set<String>> CHOSEN_FROM_LITERALS = Map.of(
            "RetrainStore.java", Set.of("function"),      // "pg_try_advisory_lock" or "pg_advisory_unlock"
            "ModelRegistry.java", Set.of("modelColumn"));  // "m.model" or "''::bytea"

    private static final Pattern CALL = Pattern.compile("\\.(sql|createStatement)\\(");
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    @Test
    void everyStatementIsBuiltFromConstantsOnly() throws IOException {
        List<String> statements = new ArrayList<>();
        List<String> violations = new ArrayList<>();
        for (Path root : SOURCES) {
            assertThat(root).isDirectory();
            try (Stream<Path> files = Files.walk(root)) {
                files.filter(f -> f.toString().endsWith(".java")).forEach(file -> {
                    String name = file.getFileName().toString();
                    for (String argument : sqlArguments(read(file))) {
                        statements.add(name);
                        violations.addAll(nonConstants(argument, CHOSEN_FROM_LITERALS.getOrDefault(name, Set.of()))
                                .stream().map(id -> name + ": '" + id + "' in " + argument.strip()).toList());
                    }
                });
            }
        }
        assertThat(statements).as("statements found (the scan sees the code)").hasSizeGreaterThan(30);
        assertThat(violations).as("SQL built from something other than constants").isEmpty();
    }

    @Test
    void theScanCatchesAValueConcatenatedIntoAStatement() {
        String code = """
                db.sql("SELECT * FROM rental_models WHERE user_id = '" + userId + "' AND status = " + ACTIVE)
                        .fetch();
                connection.createStatement("LISTEN " + CHANNEL).execute();
                db.sql(SELECT_MODEL.formatted(column) + " WHERE m.version = $1").bind(0, version);
                """;
        List<String> arguments = sqlArguments(code);
        assertThat(arguments).hasSize(3);
        assertThat(nonConstants(arguments.get(0), Set.of())).containsExactly("userId");
        assertThat(nonConstants(arguments.get(1), Set.of())).isEmpty();
        assertThat(nonConstants(arguments.get(2), Set.of())).containsExactly("column");
        assertThat(nonConstants(arguments.get(2), Set.of("column"))).isEmpty();
    }

    /** The argument text of every .sql( / .createStatement( call, parentheses matched outside literals. */
    static List<String> sqlArguments(String code) {
        List<String> arguments = new ArrayList<>();
        Matcher call = CALL.matcher(code);
        while (call.find()) {
            int depth = 1;
            int i = call.end();
            while (depth > 0) {
                char c = code.charAt(i);
                if (code.startsWith("\"\"\"", i)) {
                    i = code.indexOf("\"\"\"", i + 3) + 3;
                    continue;
                }
                if (c == '"' || c == '\'') {
                    i = endOfLiteral(code, i, c);
                    continue;
                }
                depth += c == '(' ? 1 : c == ')' ? -1 : 0;
                i++;
            }
            arguments.add(code.substring(call.end(), i - 1));
        }
        return arguments;
    }

    /** The identifiers of {@code argument}, literals removed, that are neither constants nor allowed. */
    static List<String> nonConstants(String argument, Set<String> allowed) {
        String code = argument.replaceAll("(?s)\"\"\".*?\"\"\"", " ");
        StringBuilder outside = new StringBuilder();
        for (int i = 0; i < code.length(); ) {
            char c = code.charAt(i);
            if (c == '"' || c == '\'') {
                i = endOfLiteral(code, i, c);
                outside.append(' ');
            } else {
                outside.append(c);
                i++;
            }
        }
        List<String> found = new ArrayList<>();
        Matcher id = IDENTIFIER.matcher(outside);
        while (id.find()) {
            String name = id.group();
            boolean constant = name.equals(name.toUpperCase(java.util.Locale.ROOT)) && !name.equals("_");
            if (!constant && !name.equals("formatted") && !allowed.contains(name)) {
                found.add(name);
            }
        }
        return found;
    }

    private static int endOfLiteral(String code, int start, char quote) {
        int i = start + 1;
        while (code.charAt(i) != quote) {
            i += code.charAt(i) == '\\' ? 2 : 1;
        }
        return i + 1;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

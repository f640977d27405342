package io.mlgateway.shared.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Stream selectors of a LogQL query. */
public final class LogQl {

    private LogQl() {
    }

    /** The {…} blocks outside string literals: in LogQL these are the stream selectors. */
    public static List<String> streamSelectors(String expr) {
        List<String> selectors = new ArrayList<>();
        char quote = 0;
        int start = -1;
        for (int i = 0; i < expr.length(); i++) {
            char c = expr.charAt(i);
            if (quote != 0) {
                if (c == '\\' && quote == '"') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '"' || c == '`') {
                quote = c;
            } else if (c == '{' && start < 0) {
                start = i;
            } else if (c == '}' && start >= 0) {
                selectors.add(expr.substring(start, i + 1));
                start = -1;
            }
        }
        return selectors;
    }

    private static final Pattern MATCHER = Pattern.compile(
            "\\s*([A-Za-z_]\\w*)\\s*(=~|!~|!=|=)\\s*(\"(?:[^\"\\\\]|\\\\.)*\"|`[^`]*`)\\s*(?:,|$)");

    /** label -> operator of each matcher in {…}; fails on anything that is not a matcher. */
    public static Map<String, String> matchers(String selector) {
        String body = selector.substring(1, selector.length() - 1);
        Map<String, String> matchers = new LinkedHashMap<>();
        Matcher m = MATCHER.matcher(body);
        int at = 0;
        while (at < body.length() && m.find(at) && m.start() == at) {
            matchers.put(m.group(1), m.group(2));
            at = m.end();
        }
        assertThat(body.substring(at).isBlank()).as("unparsable stream selector " + selector).isTrue();
        return matchers;
    }

    public static boolean hasNonEmptyEqualityMatcher(String selector) {
        return Pattern.compile("[A-Za-z_]\\w*\\s*=\\s*\"[^\"]+\"").matcher(selector).find();
    }
}

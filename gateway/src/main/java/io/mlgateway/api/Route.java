package io.mlgateway.api;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.springframework.http.HttpMethod;
import org.springframework.web.util.UriUtils;

/**
 * One endpoint of the API: method, path template (Spring's path-pattern syntax, {@code {name}} for a
 * variable segment), which key it takes, whether it is also served on a direct Reactor Netty route, and its handler.
 * Every endpoint takes and answers {@code application/json}.
 */
public final class Route {

    /** Which header lets a request in. */
    public enum Access {
        /** {@code x-api-key}: the scoring clients. */
        CLIENT,
        /** {@code x-admin-key} and only it: model operations. */
        ADMIN,
        /** No key: the protocol's health probes, which orchestrators call without credentials. */
        PUBLIC
    }

    private final HttpMethod method;
    private final String path;
    /** The template's segments after the leading '/', and each variable segment's name (null: literal). */
    private final String[] segments;
    private final String[] variables;
    private final Access access;
    private final boolean direct;
    private final ApiHandler handler;

    private Route(HttpMethod method, String path, Access access, boolean direct, ApiHandler handler) {
        this.method = method;
        this.path = path;
        this.segments = path.substring(1).split("/", -1);
        this.variables = new String[segments.length];
        for (int i = 0; i < segments.length; i++) {
            String segment = segments[i];
            if (segment.startsWith("{") && segment.endsWith("}")) {
                variables[i] = segment.substring(1, segment.length() - 1);
            } else if (segment.contains("{") || segment.contains("*")) {
                throw new IllegalArgumentException(path + ": a variable must be a whole segment, and no wildcards");
            }
        }
        this.access = access;
        this.direct = direct;
        this.handler = handler;
    }

    public static Route get(String path, ApiHandler handler) {
        return new Route(HttpMethod.GET, path, Access.CLIENT, false, handler);
    }

    public static Route post(String path, ApiHandler handler) {
        return new Route(HttpMethod.POST, path, Access.CLIENT, false, handler);
    }

    /** The same route, guarded by the admin key instead of the client key. */
    public Route admin() {
        return new Route(method, path, Access.ADMIN, direct, handler);
    }

    /** The same route, open without a key. */
    public Route open() {
        return new Route(method, path, Access.PUBLIC, direct, handler);
    }

    /**
     * The same route, also served straight on Reactor Netty ({@link DirectRoutes}): for the single-row scoring
     * endpoints, whose throughput the WebFlux pipeline would cap. Client-key routes only.
     */
    public Route servedDirect() {
        if (access != Access.CLIENT) {
            throw new IllegalStateException(path + ": only client-key routes are served directly");
        }
        return new Route(method, path, access, true, handler);
    }

    public HttpMethod method() {
        return method;
    }

    /** The template, also the {@code uri} tag of its metrics and access-log lines. */
    public String path() {
        return path;
    }

    public Access access() {
        return access;
    }

    public boolean direct() {
        return direct;
    }

    public ApiHandler handler() {
        return handler;
    }

    /**
     * Whether a raw request path (no query) is this route's, without allocating: the direct routes and the key filter
     * ask this of every request. Literal segments compare exactly, a variable takes one non-empty segment without
     * matrix parameters; for the templates of this API the same paths WebFlux's path patterns match
     * ({@code ApiRoutesTest} checks that).
     */
    public boolean matchesRaw(String requestPath) {
        return segmentStart(requestPath, segments.length) >= 0;
    }

    /** The percent-decoded path variables of a raw path {@link #matchesRaw} accepted. */
    public Map<String, String> variablesRaw(String requestPath) {
        Map<String, String> values = new HashMap<>(4);
        int start = 1;
        for (int i = 0; i < segments.length; i++) {
            int end = requestPath.indexOf('/', start);
            end = end < 0 ? requestPath.length() : end;
            if (variables[i] != null) {
                String raw = requestPath.substring(start, end);
                values.put(variables[i], raw.indexOf('%') < 0 ? raw : UriUtils.decode(raw, StandardCharsets.UTF_8));
            }
            start = end + 1;
        }
        return values;
    }

    /** Walks the first {@code count} segments; the index past them if all match and nothing follows, else -1. */
    private int segmentStart(String requestPath, int count) {
        if (requestPath.isEmpty() || requestPath.charAt(0) != '/') {
            return -1;
        }
        int start = 1;
        for (int i = 0; i < count; i++) {
            int slash = requestPath.indexOf('/', start);
            boolean last = i == count - 1;
            if (last != (slash < 0)) {
                return -1; // too few segments, or more after the last
            }
            int end = last ? requestPath.length() : slash;
            int length = end - start;
            if (variables[i] == null) {
                if (length != segments[i].length() || !requestPath.regionMatches(start, segments[i], 0, length)) {
                    return -1;
                }
            } else if (length == 0 || hasMatrixParameters(requestPath, start, end)) {
                return -1; // an empty variable, or matrix parameters: left to WebFlux
            }
            start = end + 1;
        }
        return start;
    }

    private static boolean hasMatrixParameters(String requestPath, int start, int end) {
        int semicolon = requestPath.indexOf(';', start);
        return semicolon >= 0 && semicolon < end;
    }

    @Override
    public String toString() {
        return method + " " + path;
    }
}

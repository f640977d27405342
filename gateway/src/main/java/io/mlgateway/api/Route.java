package io.mlgateway.api;

import java.util.Map;
import org.springframework.http.HttpMethod;
import org.springframework.http.server.PathContainer;
import org.springframework.web.util.pattern.PathPattern;
import org.springframework.web.util.pattern.PathPatternParser;

/**
 * One endpoint of the API: method, path template (Spring's {@link PathPattern} syntax, {@code {name}} for a
 * variable segment), which key it takes, whether it is also served on a direct Reactor Netty route, and its handler.
 * Every endpoint takes and answers {@code application/json}.
 */
public final class Route {

    /** Which header lets a request in. */
    public enum Access {
        /** {@code x-api-key}: the scoring clients. */
        CLIENT,
        /** {@code x-admin-key} and only it: model operations. */
        ADMIN
    }

    private final HttpMethod method;
    private final String path;
    private final PathPattern pattern;
    private final Access access;
    private final boolean direct;
    private final ApiHandler handler;

    private Route(HttpMethod method, String path, Access access, boolean direct, ApiHandler handler) {
        this.method = method;
        this.path = path;
        this.pattern = PathPatternParser.defaultInstance.parse(path);
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

    public boolean matches(PathContainer requestPath) {
        return pattern.matches(requestPath);
    }

    /** The decoded path variables, or null if {@code requestPath} is not this route's. */
    public Map<String, String> variables(PathContainer requestPath) {
        PathPattern.PathMatchInfo info = pattern.matchAndExtract(requestPath);
        return info == null ? null : info.getUriVariables();
    }

    @Override
    public String toString() {
        return method + " " + path;
    }
}

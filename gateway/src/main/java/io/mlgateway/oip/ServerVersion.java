package io.mlgateway.oip;

import java.util.Optional;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.info.BuildProperties;
import org.springframework.stereotype.Component;

/**
 * The gateway's version as the build recorded it (META-INF/build-info.properties, else the jar's manifest), for
 * {@code GET /v2} and the OpenAPI document.
 */
@Component
public class ServerVersion {

    private final Optional<String> recorded;

    public ServerVersion(ObjectProvider<BuildProperties> build) {
        BuildProperties properties = build.getIfAvailable();
        String version = properties != null ? properties.getVersion() : null;
        this.recorded = Optional.ofNullable(version != null ? version
                : ServerVersion.class.getPackage().getImplementationVersion());
    }

    /** The version, if the build recorded one. */
    public Optional<String> recorded() {
        return recorded;
    }

    /** The version, or "unknown". */
    public String value() {
        return recorded.orElse("unknown");
    }
}

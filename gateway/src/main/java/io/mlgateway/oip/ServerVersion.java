package io.mlgateway.oip;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.info.BuildProperties;
import org.springframework.stereotype.Component;

/** The gateway's version as the build recorded it (META-INF/build-info.properties), for {@code GET /v2}. */
@Component
public class ServerVersion {

    private final String value;

    public ServerVersion(ObjectProvider<BuildProperties> build) {
        BuildProperties properties = build.getIfAvailable();
        this.value = properties != null && properties.getVersion() != null ? properties.getVersion() : "unknown";
    }

    public String value() {
        return value;
    }
}

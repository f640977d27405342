package io.mlgateway.api;

import io.mlgateway.oip.ServerVersion;
import io.swagger.v3.core.util.Yaml;
import io.swagger.v3.oas.models.OpenAPI;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.ClassPathResource;

/**
 * The API's OpenAPI document, written by hand ({@value #LOCATION}) and served by springdoc at {@code /v3/api-docs}
 * (and {@code .yaml}) with Swagger UI at {@code /swagger-ui.html}.
 *
 * <p>Why by hand: springdoc documents annotated controllers, and this API has none. Its routes are built at run time
 * from {@link ApiRoutes} into one router function, and the single-row ones are served on Reactor Netty ahead of
 * WebFlux, where nothing can be scanned. {@code OpenApiContractTest} holds the document to the route table and to
 * the real answers.
 *
 * <p>The document is the bean springdoc starts from, and the customizer puts it back whole after springdoc's own
 * passes (scanning, reference pruning, and a clone through a plain JSON mapper that does not know the swagger
 * model), so what is served is the file and only the file. Off with {@code springdoc.api-docs.enabled=false}
 * (application.yml).
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = "springdoc.api-docs.enabled", havingValue = "true", matchIfMissing = true)
class OpenApiDocument {

    static final String LOCATION = "openapi/gateway-api.yaml";

    @Bean
    OpenAPI gatewayOpenApi(ServerVersion version) {
        return read(version);
    }

    @Bean
    OpenApiCustomizer onlyTheWrittenDocument(ServerVersion version) {
        return served -> {
            OpenAPI written = read(version);
            served.setOpenapi(written.getOpenapi());
            served.setInfo(written.getInfo());
            served.setExternalDocs(written.getExternalDocs());
            served.setServers(written.getServers());
            served.setSecurity(written.getSecurity());
            served.setTags(written.getTags());
            served.setPaths(written.getPaths());
            served.setComponents(written.getComponents());
            served.setExtensions(written.getExtensions());
        };
    }

    /** The document; its version is the build's when the jar records one, so a client can tell what it reads. */
    static OpenAPI read(ServerVersion version) {
        OpenAPI document;
        try (InputStream in = new ClassPathResource(LOCATION).getInputStream()) {
            document = Yaml.mapper().readValue(in, OpenAPI.class);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the OpenAPI document " + LOCATION, e);
        }
        version.recorded().ifPresent(document.getInfo()::setVersion);
        return document;
    }
}

package io.mlgateway.config;

import static io.mlgateway.shared.testing.ConfigurationChecks.bind;
import static io.mlgateway.shared.testing.ConfigurationChecks.bindFailure;
import static io.mlgateway.shared.testing.ConfigurationChecks.environment;
import static io.mlgateway.shared.testing.ConfigurationChecks.metadataProperties;
import static io.mlgateway.shared.testing.ConfigurationChecks.ymlKeys;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlgateway.api.AccessLogProperties;
import io.mlgateway.api.ApiProperties;
import io.mlgateway.api.HttpServerProperties;
import io.mlgateway.inferencelog.InferenceLogProperties;
import io.mlgateway.modelstore.ModelCacheProperties;
import io.mlgateway.oip.GrpcProperties;
import io.mlgateway.regno.RegnoProperties;
import io.mlgateway.rentals.RentalsProperties;
import io.mlgateway.scoring.ScoringProperties;
import io.mlgateway.shared.storage.DatabaseProperties;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.ClassPathResource;
import org.springframework.util.unit.DataSize;
import tools.jackson.databind.JsonNode;

/**
 * The gateway's configuration keys (gateway.*): each binds to the default its properties class documents, refuses
 * an invalid value at start-up naming the key, is listed in the generated metadata, and the shipped yml files set
 * no key that nothing binds.
 */
@ExtendWith(OutputCaptureExtension.class)
class ConfigurationPropertiesTest {

    /** Every gateway.* properties class, as the application registers them. */
    private static final List<Class<?>> CLASSES = List.of(ApiProperties.class, AccessLogProperties.class,
            RegnoProperties.class, RentalsProperties.class, ModelCacheProperties.class, ScoringProperties.class,
            InferenceLogProperties.class, HttpServerProperties.class, GrpcProperties.class);

    /** What gateway.grpc binds to with nothing set. */
    private static final GrpcProperties GRPC_DEFAULTS = new GrpcProperties(true, 8001, DataSize.ofKilobytes(256), 256,
            Duration.ofSeconds(20));

    /** What gateway.http binds to with nothing set. */
    private static final HttpServerProperties HTTP_DEFAULTS = new HttpServerProperties(Duration.ofSeconds(10),
            Duration.ofSeconds(10), Duration.ofSeconds(60), Duration.ofSeconds(30), Duration.ZERO);

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties({ApiProperties.class, AccessLogProperties.class, RegnoProperties.class,
            RentalsProperties.class, ModelCacheProperties.class, ScoringProperties.class,
            InferenceLogProperties.class, HttpServerProperties.class, GrpcProperties.class})
    static class GatewayProperties {
    }

    /** The one key without a default: API keys are secrets, from the environment only (as hashes). */
    private static final String CLIENT_KEY = "client sha256:8eb943e7040b69a94bf39562088223755bff4c2e7c5fc257f1e08f870fe01d35";
    private static final String API_KEYS = "gateway.api.api-keys=" + CLIENT_KEY;

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withUserConfiguration(GatewayProperties.class)
            .withInitializer(environment(Map.of()));

    @Test
    void withNothingButTheApiKeysConfiguredEveryKeyHasItsDocumentedDefault() {
        runner.withPropertyValues(API_KEYS).run(context -> {
            assertThat(context).hasNotFailed();
            assertDefaults(context.getBean(ApiProperties.class), context.getBean(AccessLogProperties.class),
                    context.getBean(RegnoProperties.class), context.getBean(RentalsProperties.class),
                    context.getBean(ModelCacheProperties.class), context.getBean(ScoringProperties.class),
                    context.getBean(InferenceLogProperties.class));
            assertThat(context.getBean(HttpServerProperties.class)).isEqualTo(HTTP_DEFAULTS);
            assertThat(context.getBean(GrpcProperties.class)).isEqualTo(GRPC_DEFAULTS);
        });
    }

    @Test
    void theShippedApplicationYmlChangesNoDefault() {
        runner.withInitializer(environment(Map.of("GATEWAY_API_KEYS", CLIENT_KEY), "application.yml"))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertDefaults(context.getBean(ApiProperties.class), context.getBean(AccessLogProperties.class),
                            context.getBean(RegnoProperties.class), context.getBean(RentalsProperties.class),
                            context.getBean(ModelCacheProperties.class), context.getBean(ScoringProperties.class),
                            context.getBean(InferenceLogProperties.class));
                    assertThat(context.getBean(HttpServerProperties.class)).isEqualTo(HTTP_DEFAULTS);
                    assertThat(context.getBean(GrpcProperties.class)).isEqualTo(GRPC_DEFAULTS);
                });
    }

    private static void assertDefaults(ApiProperties api, AccessLogProperties accessLog, RegnoProperties regno,
            RentalsProperties rentals, ModelCacheProperties modelCache, ScoringProperties scoring,
            InferenceLogProperties inferenceLog) {
        assertThat(api).isEqualTo(new ApiProperties(List.of(CLIENT_KEY), List.of(), null, null, Duration.ofSeconds(10), 0,
                Duration.ofSeconds(1), DataSize.ofKilobytes(256)));
        assertThat(accessLog).isEqualTo(new AccessLogProperties(0.01, Duration.ofMillis(250)));
        assertThat(regno.model()).isEqualTo(new ClassPathResource("models/regno/micromodel.cbm"));
        assertThat(regno.model().exists()).isTrue();
        assertThat(regno.maxBatchSize()).isEqualTo(256);
        assertThat(rentals).isEqualTo(new RentalsProperties(256, 1000, Duration.ofSeconds(5), Duration.ofSeconds(5),
                Duration.ofMinutes(10)));
        // max-bytes: half the heap the JVM may grow to.
        assertThat(modelCache).isEqualTo(new ModelCacheProperties(DataSize.ofBytes(Runtime.getRuntime().maxMemory() / 2),
                Duration.ofHours(6), 4, 64, Duration.ofHours(1), Duration.ofSeconds(30), new ModelCacheProperties.WarmUp(10_000,
                        Duration.ofMinutes(15), Duration.ofSeconds(30), Duration.ofSeconds(10), "")));
        assertThat(scoring).isEqualTo(new ScoringProperties(0, 4096, 1,
                new ScoringProperties.Batching(64, Duration.ofNanos(250_000))));
        assertThat(inferenceLog).isEqualTo(new InferenceLogProperties(200_000, 1000, Duration.ofMillis(50),
                Duration.ofMillis(100), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(10)));
        // Code that builds these by hand gets the same defaults, read from the same annotations.
        assertThat(InferenceLogProperties.defaults()).isEqualTo(inferenceLog);
        assertThat(ScoringProperties.Batching.defaults()).isEqualTo(scoring.batching());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            gateway.rentals.max-batch-size=-5 | gateway.rentals.max-batch-size must be at least 1, was -5
            gateway.rentals.pending-log-timeout=0s | gateway.rentals.pending-log-timeout must be positive, was PT0S
            gateway.regno.max-batch-size=0 | gateway.regno.max-batch-size must be at least 1, was 0
            gateway.api.max-body-size=0B | gateway.api.max-body-size must be positive, was 0B
            gateway.api.admin-keys=client-key | gateway.api.admin-keys[0]: the entry is not '[name] sha256:<64 hex digits> [<n>/s]' (a plain-text key is refused
            gateway.api.default-rate-limit=-1 | gateway.api.default-rate-limit must be at least 0, was -1
            gateway.api.rate-limit-burst=0s | gateway.api.rate-limit-burst must be positive, was PT0S
            gateway.api.key-file-check-interval=0s | gateway.api.key-file-check-interval must be positive, was PT0S
            gateway.access-log.sample-rate=1.5 | gateway.access-log.sample-rate must be between 0.0 and 1.0, was 1.5
            gateway.access-log.slow-threshold=-1s | gateway.access-log.slow-threshold must not be negative, was PT-1S
            gateway.model-cache.read-batch-size=0 | gateway.model-cache.read-batch-size must be at least 1, was 0
            gateway.model-cache.warm-up.users=-1 | gateway.model-cache.warm-up.users must be at least 0, was -1
            gateway.scoring.queue-capacity=0 | gateway.scoring.queue-capacity must be at least 1, was 0
            gateway.scoring.retry-after-seconds=0 | gateway.scoring.retry-after-seconds must be at least 1, was 0
            gateway.scoring.threads=-1 | gateway.scoring.threads must be at least 0, was -1
            gateway.scoring.batching.max-batch-size=0 | gateway.scoring.batching.max-batch-size must be at least 1, was 0
            gateway.inference-log.capacity=0 | gateway.inference-log.capacity must be at least 1, was 0
            gateway.inference-log.retry-max-backoff=50ms | gateway.inference-log.retry-max-backoff must not be below
            gateway.http.request-head-timeout=0s | gateway.http.request-head-timeout must be positive, was PT0S
            gateway.http.body-read-timeout=-1s | gateway.http.body-read-timeout must be positive, was PT-1S
            gateway.http.body-timeout=0ms | gateway.http.body-timeout must be positive, was PT0S
            gateway.http.linger-time=0s | gateway.http.linger-time must be positive, was PT0S
            gateway.http.shutdown-drain=-1s | gateway.http.shutdown-drain must not be negative, was PT-1S
            gateway.grpc.port=70000 | gateway.grpc.port must be between 0 and 65535, was 70000
            gateway.grpc.max-message-size=0B | gateway.grpc.max-message-size must be positive, was 0B
            gateway.grpc.max-concurrent-calls-per-connection=0 | gateway.grpc.max-concurrent-calls-per-connection must be between 1 and 1048576, was 0
            gateway.grpc.shutdown-timeout=0s | gateway.grpc.shutdown-timeout must be positive, was PT0S
            """)
    void anInvalidValueFailsStartUpNamingItsKey(String setting, String message) {
        runner.withPropertyValues(API_KEYS, setting).run(context -> {
            assertThat(context).hasFailed();
            assertThat(bindFailure(context.getStartupFailure())).as("reported as a binding failure").isNotNull();
            assertThat(context.getStartupFailure()).rootCause().hasMessageContaining(message);
        });
    }

    @Test
    void noApiKeysFailsStartUpSayingWhichVariableToSet() {
        runner.withInitializer(environment(Map.of(), "application.yml")).run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("gateway.api.api-keys is required")
                    .hasMessageContaining("GATEWAY_API_KEYS");
        });
    }

    /** As an operator sees it: the application does not start, and the report names the key and the value. */
    @Test
    void aNegativeBatchSizeIsAStartUpFailureNotASilentDefault(CapturedOutput output) {
        SpringApplication application = new SpringApplication(GatewayProperties.class);
        application.setWebApplicationType(WebApplicationType.NONE);
        assertThatThrownBy(() -> application.run("--" + API_KEYS, "--gateway.rentals.max-batch-size=-5").close())
                .isNotNull();
        assertThat(output).contains("APPLICATION FAILED TO START")
                .contains("gateway.rentals.max-batch-size must be at least 1, was -5");
    }

    /** A plain-text key pasted where its hash belongs stops start-up, and the report does not repeat it. */
    @Test
    void aPlainTextKeyIsRefusedWithoutBeingEchoed(CapturedOutput output) {
        SpringApplication application = new SpringApplication(GatewayProperties.class);
        application.setWebApplicationType(WebApplicationType.NONE);
        assertThatThrownBy(() -> application.run("--gateway.api.api-keys=" + CLIENT_KEY + ",s3cr3t-plain-key-4711")
                .close()).isNotNull();
        assertThat(output).contains("APPLICATION FAILED TO START").contains("gateway.api.api-keys[1]")
                .contains("a plain-text key is refused").doesNotContain("s3cr3t-plain-key-4711");
    }

    @Test
    void theDocumentedEnvironmentVariablesBind() {
        Map<String, Object> variables = new HashMap<>(Map.of(
                "GATEWAY_API_KEYS", "k1 sha256:6ab9f1eb8f7d3388f4f9d586f66e99fd54080df2c446f0e58668b09c08a16dd0, sha256:015f7e6bc5aeaf483724089e9252cc13b50951a6b69412522765cff4d780306e 500/s",
                "GATEWAY_ADMIN_KEYS", "admin sha256:8c6976e5b5410415bde908bd4dee15dfb167a9c873fc4bb8a81f6f2ab448a918",
                "GATEWAY_MODEL_CACHE_MAX_BYTES", "1400MB",
                "GATEWAY_MODEL_CACHE_READ_BATCH_SIZE", "50",
                "GATEWAY_MODEL_CACHE_WARM_UP_USERS", "0",
                "GATEWAY_SCORING_QUEUE_CAPACITY", "8",
                "GATEWAY_SCORING_BATCHING_MAX_BATCH_SIZE", "1",
                "GATEWAY_INFERENCE_LOG_CAPACITY", "10",
                "GATEWAY_API_DIRECT_ROUTES", "false"));
        variables.put("GATEWAY_API_KEY_FILE", "/run/secrets/api-keys");
        variables.put("GATEWAY_API_ADMIN_KEY_FILE", "/run/secrets/admin-keys");
        variables.put("GATEWAY_API_DEFAULT_RATE_LIMIT", "100");
        runner.withInitializer(environment(variables, "application.yml")).run(context -> {
            assertThat(context).hasNotFailed();
            ApiProperties api = context.getBean(ApiProperties.class);
            assertThat(api.apiKeys()).containsExactly("k1 sha256:6ab9f1eb8f7d3388f4f9d586f66e99fd54080df2c446f0e58668b09c08a16dd0", "sha256:015f7e6bc5aeaf483724089e9252cc13b50951a6b69412522765cff4d780306e 500/s");
            assertThat(api.adminKeys()).containsExactly("admin sha256:8c6976e5b5410415bde908bd4dee15dfb167a9c873fc4bb8a81f6f2ab448a918");
            assertThat(api.keyFile()).isEqualTo(Path.of("/run/secrets/api-keys"));
            assertThat(api.adminKeyFile()).isEqualTo(Path.of("/run/secrets/admin-keys"));
            assertThat(api.defaultRateLimit()).isEqualTo(100);
            ModelCacheProperties modelCache = context.getBean(ModelCacheProperties.class);
            assertThat(modelCache.maxBytes()).isEqualTo(DataSize.ofMegabytes(1400));
            assertThat(modelCache.readBatchSize()).isEqualTo(50);
            assertThat(modelCache.warmUp().users()).isZero();
            ScoringProperties scoring = context.getBean(ScoringProperties.class);
            assertThat(scoring.queueCapacity()).isEqualTo(8);
            assertThat(scoring.batching().maxBatchSize()).isEqualTo(1);
            assertThat(context.getBean(InferenceLogProperties.class).capacity()).isEqualTo(10);
            assertThat(Binder.get(context.getEnvironment()).bind("gateway.api.direct-routes", Boolean.class).get())
                    .isFalse();
        });
    }

    @Test
    void theLocalProfileSetsDevKeysThatTheEnvironmentStillOverrides() {
        runner.withInitializer(environment(Map.of(), "application-local.yml", "application.yml")).run(context -> {
            ApiProperties api = context.getBean(ApiProperties.class);
            assertThat(api.apiKeys()).containsExactly("local-dev sha256:ed5a18fb8f807f996d649e379d3f35f39c543a91bdbf88c492f2ebd10d4df86c");
            assertThat(api.adminKeys()).containsExactly("local-admin sha256:4ab7b7cd7a009307f975da639ffcb2f104e371d271e936dab005ee993474b81d");
        });
        runner.withInitializer(environment(Map.of("GATEWAY_API_KEYS", CLIENT_KEY), "application-local.yml",
                "application.yml")).run(context -> {
            assertThat(context.getBean(ApiProperties.class).apiKeys()).containsExactly(CLIENT_KEY);
        });
    }

    @Test
    void everyGatewayKeyTheYmlFilesSetIsDocumentedInTheGeneratedMetadata() {
        Map<String, JsonNode> metadata = metadataProperties();
        Set<String> set = new LinkedHashSet<>();
        for (String yml : List.of("application.yml", "application-local.yml")) {
            ymlKeys(yml).stream().filter(k -> k.startsWith("gateway.") || k.startsWith("spring.r2dbc.")
                    || k.startsWith("spring.data.redis.") || k.startsWith("spring.kafka.")).forEach(set::add);
        }
        assertThat(set).as("keys the yml files set").contains("gateway.api.api-keys", "spring.r2dbc.password");
        assertThat(metadata).as("generated metadata").containsKeys(set.toArray(String[]::new));
        for (String key : set) {
            assertThat(metadata.get(key).path("description").asString()).as(key).isNotBlank();
        }
    }

    @Test
    void everyGatewayKeyIsDocumentedWithTheDefaultItBindsTo() {
        Map<String, JsonNode> metadata = metadataProperties();
        int checked = 0;
        for (Class<?> type : CLASSES) {
            String prefix = type.getAnnotation(ConfigurationProperties.class).value();
            Map<String, Object> required = new HashMap<>(Map.of("gateway.api.api-keys", CLIENT_KEY));
            Object defaults = bind(required, prefix, type);
            for (var property : metadata.entrySet()) {
                if (!property.getKey().startsWith(prefix + ".")) {
                    continue;
                }
                JsonNode node = property.getValue();
                assertThat(node.path("description").asString()).as(property.getKey()).isNotBlank();
                // API keys have no default (secrets); no admin key is an empty list and no key file is none, and the
                // model cache's size is half the heap (assertDefaults), which metadata cannot show.
                assertThat(node.has("defaultValue")
                        || property.getKey().matches("gateway\\.api\\.((api|admin)-keys|(admin-)?key-file)")
                        || property.getKey().equals("gateway.model-cache.max-bytes"))
                        .as(property.getKey() + " documents its default").isTrue();
                if (node.has("defaultValue")) {
                    // Setting the documented default explicitly binds what binding nothing does.
                    Map<String, Object> explicit = new HashMap<>(required);
                    explicit.put(property.getKey(), node.get("defaultValue").asString());
                    assertThat(bind(explicit, prefix, type)).as(property.getKey()).isEqualTo(defaults);
                    checked++;
                }
            }
        }
        assertThat(checked).as("documented defaults checked").isGreaterThanOrEqualTo(30);
        assertThat(metadata.get("gateway.api.direct-routes").get("defaultValue").asBoolean()).isTrue();
    }

    @Test
    void aHandBuiltInstanceIsCheckedAsABoundOneIs() {
        assertThatThrownBy(() -> new RentalsProperties(-5, 1000, Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("gateway.rentals.max-batch-size must be at least 1, was -5");
        assertThatThrownBy(() -> new DatabaseProperties("r2dbc:postgresql://h/db", "u", "", null))
                .hasMessage("spring.r2dbc.pool is required");
        InferenceLogProperties d = InferenceLogProperties.defaults();
        assertThatThrownBy(() -> new InferenceLogProperties(d.capacity(), d.batchSize(), d.flushInterval(),
                Duration.ofMillis(100), Duration.ofMillis(50), d.writeTimeout(), d.shutdownTimeout()))
                .hasMessage("gateway.inference-log.retry-max-backoff must not be below "
                        + "gateway.inference-log.retry-min-backoff (PT0.1S), was PT0.05S");
    }
}

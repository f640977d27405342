package io.mlgateway.retrain;

import static io.mlgateway.shared.testing.ConfigurationChecks.bind;
import static io.mlgateway.shared.testing.ConfigurationChecks.bindFailure;
import static io.mlgateway.shared.testing.ConfigurationChecks.environment;
import static io.mlgateway.shared.testing.ConfigurationChecks.metadataProperties;
import static io.mlgateway.shared.testing.ConfigurationChecks.ymlKeys;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlgateway.shared.storage.DatabaseProperties;
import io.mlgateway.shared.storage.KafkaConnectionProperties;
import io.mlgateway.shared.storage.RedisConnectionProperties;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;
import tools.jackson.databind.JsonNode;

/**
 * The retrainer's configuration keys (retrainer.*, and its own values for the shared storage keys): defaults as
 * documented, an invalid value refused at start-up naming the key, and every key the yml sets documented.
 */
class RetrainPropertiesTest {

    /** As RetrainerApplication registers them (it scans io.mlgateway.retrain and io.mlgateway.shared.storage). */
    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties({RetrainProperties.class, DatabaseProperties.class,
            RedisConnectionProperties.class, KafkaConnectionProperties.class})
    static class RetrainerProperties {
    }

    private static final RetrainProperties DEFAULTS = new RetrainProperties(50, 5000, 1, Duration.ofSeconds(30),
            UpdatePolicy.RESIDUAL, 50, 6, 0.1, 4000, 10, 400, 0.2, 1.3, 0.1, Duration.ofMinutes(5),
            Duration.ofSeconds(2), new RetrainProperties.Drift(0.2, Duration.ofMinutes(5), Duration.ofHours(1), 500,
                    100, 10));

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withUserConfiguration(RetrainerProperties.class)
            .withInitializer(environment(Map.of()));

    @Test
    void withNothingConfiguredEveryKeyHasItsDocumentedDefault() {
        runner.run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(RetrainProperties.class)).isEqualTo(DEFAULTS);
        });
        assertThat(RetrainProperties.Drift.defaults()).isEqualTo(DEFAULTS.drift());
    }

    @Test
    void theShippedApplicationYmlSetsOnlyTheRetrainersOwnStorageValues() {
        runner.withInitializer(environment(Map.of(), "application.yml")).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(RetrainProperties.class)).isEqualTo(DEFAULTS);
            DatabaseProperties database = context.getBean(DatabaseProperties.class);
            assertThat(database.url()).isEqualTo("r2dbc:postgresql://127.0.0.1:5432/inference");
            assertThat(database.pool()).isEqualTo(new DatabaseProperties.Pool(8, 0, Duration.ofSeconds(5)));
            assertThat(context.getBean(RedisConnectionProperties.class))
                    .isEqualTo(new RedisConnectionProperties("redis://127.0.0.1:6379", Duration.ofSeconds(2)));
        });
        runner.withInitializer(environment(Map.of(), "application-local.yml", "application.yml")).run(context -> {
            assertThat(context.getBean(DatabaseProperties.class).password()).isEqualTo("inference");
        });
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            retrainer.threshold=-5 | retrainer.threshold must be at least 1, was -5
            retrainer.concurrency=0 | retrainer.concurrency must be at least 1, was 0
            retrainer.sweep-interval=0s | retrainer.sweep-interval must be positive, was PT0S
            retrainer.tree-depth=0 | retrainer.tree-depth: max depth must be in 1..16, was 0
            retrainer.learning-rate=1.5 | retrainer.learning-rate: eta must be in (0, 1], was 1.5
            retrainer.holdout-fraction=1 | retrainer.holdout-fraction must be above 0.0 and below 1.0, was 1.0
            retrainer.max-mae-ratio=0 | retrainer.max-mae-ratio must be positive, was 0.0
            retrainer.max-trees=150 | retrainer.max-trees must be at least 200
            retrainer.rounds-per-update=400 | retrainer.max-trees must exceed retrainer.rounds-per-update (400), was 400
            retrainer.failure-cool-down=-1m | retrainer.failure-cool-down must not be negative, was PT-1M
            retrainer.drift.threshold=0 | retrainer.drift.threshold must be positive, was 0.0
            retrainer.drift.min-requests=600 | retrainer.drift.min-requests must be between 1 and 500, was 600
            """)
    void anInvalidValueFailsStartUpNamingItsKey(String setting, String message) {
        runner.withPropertyValues(setting).run(context -> {
            assertThat(context).hasFailed();
            assertThat(bindFailure(context.getStartupFailure())).as("reported as a binding failure").isNotNull();
            assertThat(context.getStartupFailure()).rootCause().hasMessageContaining(message);
        });
    }

    @Test
    void anUnknownPolicyFailsStartUpNamingTheKey() {
        runner.withPropertyValues("retrainer.policy=bogus").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).hasStackTraceContaining("retrainer.policy");
        });
    }

    @Test
    void theDocumentedEnvironmentVariablesBind() {
        runner.withInitializer(environment(Map.of("RETRAINER_THRESHOLD", "100", "RETRAINER_POLICY", "continue",
                "RETRAINER_DRIFT_MIN_ACTUALS", "20", "SPRING_R2DBC_PASSWORD", "secret"), "application.yml"))
                .run(context -> {
                    RetrainProperties properties = context.getBean(RetrainProperties.class);
                    assertThat(properties.threshold()).isEqualTo(100);
                    assertThat(properties.policy()).isEqualTo(UpdatePolicy.CONTINUE);
                    assertThat(properties.drift().minActuals()).isEqualTo(20);
                    assertThat(context.getBean(DatabaseProperties.class).password()).isEqualTo("secret");
                });
    }

    @Test
    void everyKeyTheYmlFilesSetIsDocumentedInTheGeneratedMetadata() {
        Map<String, JsonNode> metadata = metadataProperties();
        Set<String> set = new LinkedHashSet<>();
        for (String yml : List.of("application.yml", "application-local.yml")) {
            ymlKeys(yml).stream().filter(k -> k.startsWith("retrainer.") || k.startsWith("spring.r2dbc.")
                    || k.startsWith("spring.data.redis.") || k.startsWith("spring.kafka.")).forEach(set::add);
        }
        assertThat(set).as("keys the yml files set").contains("spring.r2dbc.pool.max-size", "spring.r2dbc.password");
        assertThat(metadata).as("generated metadata").containsKeys(set.toArray(String[]::new));
        for (String key : set) {
            assertThat(metadata.get(key).path("description").asString()).as(key).isNotBlank();
        }
    }

    @Test
    void everyRetrainerKeyIsDocumentedWithTheDefaultItBindsTo() {
        Map<String, JsonNode> metadata = metadataProperties();
        List<String> keys = metadata.keySet().stream().filter(k -> k.startsWith("retrainer.")
                && !k.startsWith(InferenceLogRetentionProperties.PREFIX + ".")).toList();
        assertThat(keys).hasSize(22);
        for (String key : keys) {
            JsonNode property = metadata.get(key);
            assertThat(property.path("description").asString()).as(key).isNotBlank();
            assertThat(property.has("defaultValue")).as(key + " documents its default").isTrue();
            // Setting the documented default explicitly binds what binding nothing does.
            assertThat(bind(Map.of(key, property.get("defaultValue").asString()), "retrainer", RetrainProperties.class))
                    .as(key).isEqualTo(DEFAULTS);
        }
    }

    @Test
    void everyInferenceLogKeyIsDocumentedWithTheDefaultItBindsTo() {
        Map<String, JsonNode> metadata = metadataProperties();
        List<String> keys = metadata.keySet().stream()
                .filter(k -> k.startsWith(InferenceLogRetentionProperties.PREFIX + ".")).toList();
        assertThat(keys).containsExactlyInAnyOrder("retrainer.inference-log.retention",
                "retrainer.inference-log.days-ahead", "retrainer.inference-log.interval");
        InferenceLogRetentionProperties defaults = new InferenceLogRetentionProperties(Duration.ofDays(30), 7,
                Duration.ofHours(1));
        assertThat(bind(Map.of(), InferenceLogRetentionProperties.PREFIX, InferenceLogRetentionProperties.class))
                .isEqualTo(defaults);
        for (String key : keys) {
            JsonNode property = metadata.get(key);
            assertThat(property.path("description").asString()).as(key).isNotBlank();
            assertThat(property.has("defaultValue")).as(key + " documents its default").isTrue();
            assertThat(bind(Map.of(key, property.get("defaultValue").asString()), InferenceLogRetentionProperties.PREFIX,
                    InferenceLogRetentionProperties.class)).as(key).isEqualTo(defaults);
        }
    }

    @Test
    void aHandBuiltInstanceIsCheckedAsABoundOneIs() {
        assertThatThrownBy(() -> new RetrainProperties(50, 5000, 1, Duration.ofSeconds(30), UpdatePolicy.RESIDUAL,
                50, 6, 0.1, 4000, 10, 400, 0.2, 1.3, 0.1, Duration.ofMinutes(5), Duration.ofSeconds(2), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("retrainer.drift is required");
    }
}

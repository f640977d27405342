package io.mlgateway.shared.storage;

import static io.mlgateway.shared.testing.ConfigurationChecks.bind;
import static io.mlgateway.shared.testing.ConfigurationChecks.bindFailure;
import static io.mlgateway.shared.testing.ConfigurationChecks.environment;
import static io.mlgateway.shared.testing.ConfigurationChecks.metadataProperties;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;
import tools.jackson.databind.JsonNode;

/** The connection settings both apps bind (spring.r2dbc, spring.data.redis, spring.kafka): defaults, checks, docs. */
class StoragePropertiesTest {

    private static final List<Class<? extends Record>> CLASSES =
            List.of(DatabaseProperties.class, RedisConnectionProperties.class, KafkaConnectionProperties.class);

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties({DatabaseProperties.class, RedisConnectionProperties.class,
            KafkaConnectionProperties.class})
    static class Storage {
    }

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withUserConfiguration(Storage.class)
            .withInitializer(environment(Map.of()));

    @Test
    void withNothingConfiguredEveryKeyHasItsDocumentedDefault() {
        runner.run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(DatabaseProperties.class)).isEqualTo(new DatabaseProperties(
                    "r2dbc:postgresql://127.0.0.1:5432/inference", "inference", "",
                    new DatabaseProperties.Pool(16, 0, Duration.ofSeconds(2))));
            assertThat(context.getBean(RedisConnectionProperties.class))
                    .isEqualTo(new RedisConnectionProperties("redis://127.0.0.1:6379", Duration.ofMillis(250)));
            assertThat(context.getBean(KafkaConnectionProperties.class))
                    .isEqualTo(new KafkaConnectionProperties("127.0.0.1:9092"));
        });
        assertThat(DatabaseProperties.Pool.defaults())
                .isEqualTo(new DatabaseProperties.Pool(16, 0, Duration.ofSeconds(2)));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            spring.r2dbc.pool.max-size=-5              | spring.r2dbc.pool.max-size must be at least 1, was -5
            spring.r2dbc.pool.max-size=0               | spring.r2dbc.pool.max-size must be at least 1, was 0
            spring.r2dbc.pool.initial-size=20          | spring.r2dbc.pool.initial-size must be between 0 and 16, was 20
            spring.r2dbc.pool.max-acquire-time=0s      | spring.r2dbc.pool.max-acquire-time must be positive, was PT0S
            spring.r2dbc.url=' '                       | spring.r2dbc.url must not be blank
            spring.data.redis.timeout=-1ms | spring.data.redis.timeout must be positive, was PT-0.001S
            spring.kafka.bootstrap-servers=' '         | spring.kafka.bootstrap-servers must not be blank
            """)
    void anInvalidValueFailsStartUpNamingItsKey(String setting, String message) {
        runner.withPropertyValues(setting.replace("'", "")).run(context -> {
            assertThat(context).hasFailed();
            assertThat(bindFailure(context.getStartupFailure())).isNotNull();
            assertThat(context.getStartupFailure()).rootCause().hasMessageContaining(message);
        });
    }

    @Test
    void theDocumentedEnvironmentVariablesBind() {
        runner.withInitializer(environment(Map.of(
                "SPRING_R2DBC_URL", "r2dbc:postgresql://db:5432/prod",
                "SPRING_R2DBC_USERNAME", "gw",
                "SPRING_R2DBC_PASSWORD", "secret",
                "SPRING_R2DBC_POOL_MAX_SIZE", "32",
                "SPRING_DATA_REDIS_URL", "redis://cache:6379",
                "SPRING_KAFKA_BOOTSTRAP_SERVERS", "kafka:9092"))).run(context -> {
            DatabaseProperties database = context.getBean(DatabaseProperties.class);
            assertThat(database.url()).isEqualTo("r2dbc:postgresql://db:5432/prod");
            assertThat(database.username()).isEqualTo("gw");
            assertThat(database.password()).isEqualTo("secret");
            assertThat(database.pool().maxSize()).isEqualTo(32);
            assertThat(context.getBean(RedisConnectionProperties.class).url()).isEqualTo("redis://cache:6379");
            assertThat(context.getBean(KafkaConnectionProperties.class).bootstrapServers()).isEqualTo("kafka:9092");
        });
    }

    @Test
    void anEmptyPasswordAsTheTestsPassItBindsAsEmpty() {
        runner.withPropertyValues("spring.r2dbc.password=")
                .run(context -> assertThat(context.getBean(DatabaseProperties.class).password()).isEmpty());
    }

    @Test
    void everyKeyIsDocumentedWithTheDefaultItBindsTo() {
        Map<String, JsonNode> metadata = metadataProperties();
        List<String> keys = metadata.keySet().stream()
                .filter(k -> k.startsWith("spring.r2dbc.") || k.startsWith("spring.data.redis.")
                        || k.startsWith("spring.kafka."))
                .filter(k -> metadata.get(k).path("sourceType").asString().startsWith("io.mlgateway."))
                .toList();
        assertThat(keys).containsExactlyInAnyOrder("spring.r2dbc.url", "spring.r2dbc.username", "spring.r2dbc.password",
                "spring.r2dbc.pool.max-size", "spring.r2dbc.pool.initial-size", "spring.r2dbc.pool.max-acquire-time",
                "spring.data.redis.url", "spring.data.redis.timeout", "spring.kafka.bootstrap-servers");
        for (String key : keys) {
            JsonNode property = metadata.get(key);
            assertThat(property.path("description").asString()).as(key + " description").isNotBlank();
            assertThat(property.has("defaultValue")).as(key + " has a default").isTrue();
            for (Class<? extends Record> type : CLASSES) {
                String prefix = prefixOf(type);
                if (key.startsWith(prefix + ".")) {
                    // Setting the documented default explicitly binds what binding nothing does.
                    assertThat(bind(Map.of(key, property.get("defaultValue").asString()), prefix, type))
                            .as(key).isEqualTo(bind(Map.of(), prefix, type));
                }
            }
        }
    }

    private static String prefixOf(Class<?> type) {
        return type.getAnnotation(org.springframework.boot.context.properties.ConfigurationProperties.class).value();
    }
}

package io.mlgateway.shared.testing;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One of the packaged apps ({@code gateway.jar}, {@code retrainer.jar}) run as its own process, the way operators
 * run it: its configuration comes from the environment given here (inherited SPRING_, GATEWAY_, RETRAINER_ and
 * LOKI_URL variables are dropped, or the whole environment with {@link Environment#ONLY_GIVEN}); its output goes
 * to a log file. {@link #close()} sends SIGTERM, as a platform does, and waits for the exit.
 */
public final class AppProcess implements AutoCloseable {

    /** What the process inherits from the test's environment. */
    public enum Environment { INHERIT_OTHERS, ONLY_GIVEN }

    /** A condition polled by {@link #await}. */
    @FunctionalInterface
    public interface Condition {
        boolean holds() throws Exception;
    }

    private final Process process;
    private final Path log;

    private AppProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    public static AppProcess start(Path jar, Map<String, String> environment, Environment mode, Path log,
            String... jvmOptions) throws IOException {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar.toAbsolutePath() + " is missing: package the apps first"
                    + " (./mvnw -DskipTests package, or the whole './mvnw verify')");
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(jvmOptions));
        command.addAll(List.of("-jar", jar.toString()));
        Files.createDirectories(log.toAbsolutePath().getParent());
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        if (mode == Environment.ONLY_GIVEN) {
            builder.environment().clear();
        } else {
            builder.environment().keySet().removeIf(k -> k.startsWith("SPRING_") || k.startsWith("GATEWAY_")
                    || k.startsWith("RETRAINER_") || k.equals("LOKI_URL"));
        }
        builder.environment().putAll(environment);
        return new AppProcess(builder.start(), log);
    }

    /**
     * An application image ({@code target/jib-image.tar}) run as a container would run it, by
     * {@code deploy/images/run-image.sh}: as the image's user, read-only root, with exactly the image's environment
     * plus {@code environment}. The process is the JVM itself (the script execs down to it), so {@link #stop()}
     * signals the application.
     */
    public static AppProcess startImage(Path runner, Path image, Map<String, String> environment, Path log)
            throws IOException {
        if (!Files.isRegularFile(image)) {
            throw new IllegalStateException(image.toAbsolutePath() + " is missing: package the apps first"
                    + " (./mvnw -DskipTests package, or the whole './mvnw verify')");
        }
        List<String> command = new ArrayList<>(List.of(runner.toString(), image.toString()));
        environment.forEach((key, value) -> command.addAll(List.of("-e", key + "=" + value)));
        Files.createDirectories(log.toAbsolutePath().getParent());
        return new AppProcess(new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                .start(), log);
    }

    public long pid() {
        return process.pid();
    }

    /** Runs a diagnostic command in the JVM {@code pid} (e.g. GC.run, GC.heap_info) and returns its output. */
    public static String jcmd(long pid, String command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(pid), command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("jcmd " + pid + " " + command + " failed: " + out);
        }
        return out;
    }

    /** Polls {@code condition} until it holds; fails at once if the process exits, or after {@code timeout}. */
    public void await(String what, Duration timeout, Condition condition) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("the process exited (" + process.exitValue() + ") before: " + what
                        + "\n" + log());
            }
            try {
                if (condition.holds()) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("timed out after " + timeout + " waiting for: " + what + "; log " + log);
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(cannot read " + log + ")";
        }
    }

    /** SIGTERM, then waits for the exit (forcibly after 60 s); returns the exit code. */
    public int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
        return process.waitFor();
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    /** The status of a GET, or -1 if nothing answers. */
    public static int get(String url) {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
            c.setConnectTimeout(1000);
            c.setReadTimeout(5000);
            int status = c.getResponseCode();
            c.disconnect();
            return status;
        } catch (IOException e) {
            return -1;
        }
    }

    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The environment that points an app at the local services and at {@code db}'s schema. */
    public static Map<String, String> services(LocalServices.TestDatabase db) {
        return Map.of(
                "SPRING_R2DBC_URL", db.r2dbcUrl(),
                "SPRING_R2DBC_USERNAME", db.user(),
                "SPRING_R2DBC_PASSWORD", db.password(),
                "SPRING_DATA_REDIS_URL", LocalServices.redisUri(),
                "SPRING_KAFKA_BOOTSTRAP_SERVERS", LocalServices.kafkaBootstrap());
    }
}

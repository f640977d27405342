package io.mlgateway.loadtests.faults;

import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.training.BikeSharingData;
import io.netty.handler.timeout.ReadTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * Open-model load at a fixed rate of predictions per second, half regno and half rentals (for {@code users} users
 * named {@code <prefix>-1..N}), spread over the gateways that are routed to; every {@code actualEvery}-th rentals
 * prediction answered 200 gets its actual (that hour's true count) after {@code actualDelay}. Requests are sent on
 * schedule whether or not earlier ones were answered, so a stall shows as answers missing, not as load not offered.
 *
 * <p>Counts exactly: per second offered and answered, per kind (regno, predict, actual) the answers by HTTP status
 * (-1: no connection or reset, -2: no answer within the timeout), rentals predictions answered 200 per user prefix,
 * actuals stored. Actuals refused (any answer but 200) are kept to be sent again ({@link #resendRefusedActuals}).
 */
final class PacedLoad implements AutoCloseable {

    static final String REGNO = "regno";
    static final String PREDICT = "predict";
    static final String ACTUAL = "actual";
    static final String ACTUAL_AGAIN = "actual sent again";
    static final int NO_CONNECTION = -1;
    static final int TIMED_OUT = -2;

    /** Two of the customer's recognitions (gateway/src/test/resources/regno/test_data.csv), as clients send them. */
    private static final List<String> REGNO_BODIES = List.of(
            "{\"regno_recognize\":\"А939НО196\",\"afts_regno_ai\":\"А939НО190\",\"recognition_accuracy\":6.4,"
                    + "\"afts_regno_ai_score\":0.8689166903495789,\"afts_regno_ai_char_scores\":\"[0.9998925924301147,"
                    + " 0.9999872446060181, 0.9999798536300659, 0.9999990463256836, 0.9988356232643127,"
                    + " 0.9998175501823425, 1.0, 0.999994158744812, 0.8702163696289062]\","
                    + "\"afts_regno_ai_length_scores\":\"[3.2404470773350624e-10, 3.236617363011618e-10,"
                    + " 3.2367283853140805e-10, 3.2651523151905337e-10, 3.234087164738497e-10, 3.259402747701756e-10,"
                    + " 3.2362224011706076e-10, 4.545459564297971e-09, 2.996458192683349e-08, 1.0,"
                    + " 3.2479344214131345e-10]\",\"camera_type\":\"Стационарная\",\"camera_class\":\"Астра-Трафик\","
                    + "\"time_check\":\"2021-08-01 09:02:59\",\"direction\":0}",
            "{\"regno_recognize\":\"В154АУ797\",\"afts_regno_ai\":\"В154АУ777\",\"recognition_accuracy\":8.099999,"
                    + "\"afts_regno_ai_score\":0.6511436104774475,\"afts_regno_ai_char_scores\":\"[0.9999932050704956,"
                    + " 0.9999973773956299, 0.9999990463256836, 0.9999991655349731, 0.9999964237213135,"
                    + " 0.999967098236084, 0.9998743534088135, 0.6512933969497681, 0.999943733215332]\","
                    + "\"afts_regno_ai_length_scores\":\"[3.430950662464127e-11, 3.460254999199108e-11,"
                    + " 3.441982115992559e-11, 3.4733542431109043e-11, 3.476243598532491e-11, 3.455130626051073e-11,"
                    + " 3.4519029995516703e-11, 3.8904469923384255e-11, 3.486360640181374e-07, 0.9999996423721313,"
                    + " 3.4424092049123445e-11]\",\"camera_type\":\"Стационарная\",\"camera_class\":\"Астра-Трафик\","
                    + "\"time_check\":\"2021-08-01 11:24:40\",\"direction\":1}");

    private static final Pattern REQUEST_ID = Pattern.compile("\"request_id\"\\s*:\\s*\"([^\"]+)\"");
    private static final Pattern STORED = Pattern.compile("\"stored\"\\s*:\\s*1\\b");
    private static final List<Hour> HOURS = hours();
    private static final int MAX_SECONDS = 3600;

    record Hour(String body, long count) {
    }

    /** An actual to send: its prediction's request id, the true count, and the gateway that answered it. */
    record Actual(String requestId, long value, int predictedBy) {
    }

    private final ConnectionProvider pool = ConnectionProvider.builder("faults-load").maxConnections(512)
            .pendingAcquireMaxCount(-1).pendingAcquireTimeout(Duration.ofSeconds(60)).build();
    private final HttpClient client;
    private final List<String> gateways;
    private volatile List<Integer> routed;
    private volatile int rate;
    private volatile String prefix;
    private final int users;
    private final int actualEvery;
    private final Duration actualDelay;

    private final long start = System.nanoTime();
    private final AtomicLongArray offered = new AtomicLongArray(MAX_SECONDS);
    private final AtomicLongArray answered = new AtomicLongArray(MAX_SECONDS);
    private final Map<String, Map<Integer, LongAdder>> statuses = new ConcurrentHashMap<>();
    private final Map<Integer, Map<Integer, LongAdder>> byGateway = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> predictedOk = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> actualsStored = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Actual> refusedActuals = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> notStored = new ConcurrentLinkedQueue<>();
    private final LongAdder unknownSameGateway = new LongAdder();
    private final LongAdder unknownOtherGateway = new LongAdder();
    private final AtomicLong okPredictions = new AtomicLong();
    private final AtomicInteger[] inFlight;
    private final AtomicInteger pending = new AtomicInteger();
    private final Thread pacer;
    private volatile boolean running = true;

    PacedLoad(List<String> gateways, String apiKey, String prefix, int users, int rate, int actualEvery,
            Duration actualDelay) {
        this.gateways = List.copyOf(gateways);
        this.routed = java.util.stream.IntStream.range(0, gateways.size()).boxed().toList();
        this.prefix = prefix;
        this.users = users;
        this.rate = rate;
        this.actualEvery = actualEvery;
        this.actualDelay = actualDelay;
        this.inFlight = new AtomicInteger[gateways.size()];
        for (int i = 0; i < inFlight.length; i++) {
            inFlight[i] = new AtomicInteger();
        }
        this.client = HttpClient.create(pool).responseTimeout(Duration.ofSeconds(20))
                .headers(h -> h.set("x-api-key", apiKey).set("content-type", "application/json"));
        this.pacer = new Thread(this::pace, "faults-pacer");
        this.pacer.setDaemon(true);
        this.pacer.start();
    }

    /** Seconds since the load started. */
    int second() {
        return (int) ((System.nanoTime() - start) / 1_000_000_000L);
    }

    /** The users of the rentals predictions from now on: a fault's own prefix, so its records can be counted. */
    void usePrefix(String prefix) {
        this.prefix = prefix;
    }

    void setRate(int rate) {
        this.rate = rate;
    }

    /** New requests go only to these gateways (by index), as a balancer routes away from a stopping instance. */
    void routeTo(List<Integer> gatewayIndexes) {
        this.routed = List.copyOf(gatewayIndexes);
    }

    int inFlight(int gateway) {
        return inFlight[gateway].get();
    }

    List<String> userIds(String prefix) {
        List<String> ids = new ArrayList<>();
        for (int i = 1; i <= users; i++) {
            ids.add(prefix + "-" + i);
        }
        return ids;
    }

    /** Sends on schedule: each tick sends what the rate says is due since the last rate change. */
    private void pace() {
        long sent = 0;
        long arrival = 0;
        int currentRate = rate;
        long epoch = System.nanoTime();
        while (running) {
            if (rate != currentRate) {
                currentRate = rate;
                epoch = System.nanoTime();
                sent = 0;
            }
            long due = (System.nanoTime() - epoch) * currentRate / 1_000_000_000L;
            while (sent < due && running) {
                send(arrival++);
                sent++;
            }
            // Paces the load: wakes every millisecond to send what became due.
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L);
        }
    }

    private void send(long arrival) {
        List<Integer> targets = routed;
        int gateway = targets.get((int) ((arrival / 2) % targets.size()));
        offered.incrementAndGet(Math.min(second(), MAX_SECONDS - 1));
        if (arrival % 2 == 0) {
            String body = REGNO_BODIES.get((int) ((arrival / 2) % REGNO_BODIES.size()));
            post(gateway, "/v1/regno/predict", body, REGNO).subscribe();
        } else {
            long n = arrival / 2;
            String userPrefix = prefix;
            String user = userPrefix + "-" + (1 + n % users);
            Hour hour = HOURS.get((int) (n % HOURS.size()));
            post(gateway, "/v1/rentals/" + user + "/predict", hour.body(), PREDICT).subscribe(answer -> {
                if (answer.status() == 200) {
                    predictedOk.computeIfAbsent(userPrefix, p -> new LongAdder()).increment();
                    if (okPredictions.incrementAndGet() % actualEvery == 0) {
                        Matcher id = REQUEST_ID.matcher(answer.body());
                        if (id.find()) {
                            Actual actual = new Actual(id.group(1), hour.count(), gateway);
                            pending.incrementAndGet();
                            // Sent to a gateway routed to when it is due, as a client behind a balancer would.
                            Mono.delay(actualDelay).flatMap(t -> postActual(pick(), actual, userPrefix, ACTUAL))
                                    .doFinally(s -> pending.decrementAndGet()).subscribe();
                        }
                    }
                }
            });
        }
    }

    private int pick() {
        List<Integer> targets = routed;
        return targets.get((int) (okPredictions.get() % targets.size()));
    }

    private Mono<Answer> postActual(int gateway, Actual actual, String userPrefix, String kind) {
        String body = "{\"actuals\":[{\"request_id\":\"" + actual.requestId() + "\",\"actual_value\":"
                + actual.value() + "}]}";
        return post(gateway, "/v1/rentals/actuals", body, kind).doOnNext(answer -> {
            if (answer.status() == 200 && STORED.matcher(answer.body()).find()) {
                actualsStored.computeIfAbsent(userPrefix, p -> new LongAdder()).increment();
            } else {
                if (answer.status() == 200) {
                    (gateway == actual.predictedBy() ? unknownSameGateway : unknownOtherGateway).increment();
                    if (notStored.size() < 3) {
                        notStored.add(answer.body());
                    }
                }
                refusedActuals.add(actual);
            }
        });
    }

    /**
     * Actuals answered 200 without being stored (their answer said unknown_request_id), sent to the gateway that
     * answered their prediction, or to the other one.
     */
    long unknownSameGateway() {
        return unknownSameGateway.sum();
    }

    long unknownOtherGateway() {
        return unknownOtherGateway.sum();
    }

    /** Up to 3 bodies of actuals answered 200 that did not say stored: 1. */
    List<String> answeredNotStored() {
        return List.copyOf(notStored);
    }

    record Answer(int status, String body) {
    }

    private Mono<Answer> post(int gateway, String path, String body, String kind) {
        pending.incrementAndGet();
        inFlight[gateway].incrementAndGet();
        return client.post().uri(gateways.get(gateway) + path).send(ByteBufFlux.fromString(Mono.just(body)))
                .responseSingle((response, content) -> content.asString().defaultIfEmpty("")
                        .map(text -> new Answer(response.status().code(), text)))
                .onErrorResume(e -> Mono.just(new Answer(timedOut(e) ? TIMED_OUT : NO_CONNECTION, "")))
                .doOnNext(answer -> {
                    if (!kind.startsWith(ACTUAL)) {
                        answered.incrementAndGet(Math.min(second(), MAX_SECONDS - 1));
                    }
                    statuses.computeIfAbsent(kind, k -> new ConcurrentHashMap<>())
                            .computeIfAbsent(answer.status(), s -> new LongAdder()).increment();
                    byGateway.computeIfAbsent(gateway, k -> new ConcurrentHashMap<>())
                            .computeIfAbsent(answer.status(), s -> new LongAdder()).increment();
                })
                .doFinally(s -> {
                    inFlight[gateway].decrementAndGet();
                    pending.decrementAndGet();
                });
    }

    private static boolean timedOut(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ReadTimeoutException || t instanceof TimeoutException
                    || t.getClass().getSimpleName().contains("Timeout")) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code n} rentals predictions sent to one gateway at once (counted as offered); completes when all are
     * answered when {@code await}, else at once (they are then in flight).
     */
    void burst(int gateway, int n, boolean await) {
        String userPrefix = prefix;
        List<Mono<Answer>> sent = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            offered.incrementAndGet(Math.min(second(), MAX_SECONDS - 1));
            Mono<Answer> answer = post(gateway, "/v1/rentals/" + userPrefix + "-" + (1 + i % users) + "/predict",
                    HOURS.get(i % HOURS.size()).body(), PREDICT).doOnNext(a -> {
                        if (a.status() == 200) {
                            predictedOk.computeIfAbsent(userPrefix, p -> new LongAdder()).increment();
                        }
                    }).cache();
            answer.subscribe();
            sent.add(answer);
        }
        if (await) {
            Mono.when(sent).block(Duration.ofSeconds(60));
        }
    }

    /** Stops sending and waits (up to {@code timeout}) until every request sent, actuals included, is answered. */
    void stopAndDrain(Duration timeout) throws InterruptedException {
        running = false;
        pacer.join();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (pending.get() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        if (pending.get() > 0) {
            throw new AssertionError(pending.get() + " requests still unanswered " + timeout + " after the load");
        }
    }

    /** Sends every refused actual again (one at a time), to the first routed gateway; returns how many were sent. */
    int resendRefusedActuals(String userPrefix) {
        List<Actual> again = new ArrayList<>();
        for (Actual a; (a = refusedActuals.poll()) != null; ) {
            again.add(a);
        }
        for (Actual a : again) {
            postActual(routed.get(0), a, userPrefix, ACTUAL_AGAIN).block(Duration.ofSeconds(30));
        }
        return again.size();
    }

    /** Per second [from, to): requests offered, and answers received. */
    long[] offered(int from, int to) {
        return slice(offered, from, to);
    }

    long[] answered(int from, int to) {
        return slice(answered, from, to);
    }

    private static long[] slice(AtomicLongArray a, int from, int to) {
        long[] out = new long[Math.max(0, to - from)];
        for (int i = from; i < to; i++) {
            out[i - from] = a.get(i);
        }
        return out;
    }

    /** Answers by status for one kind, in status order. */
    Map<Integer, Long> statuses(String kind) {
        Map<Integer, Long> out = new TreeMap<>();
        statuses.getOrDefault(kind, Map.of()).forEach((s, n) -> out.put(s, n.sum()));
        return out;
    }

    Map<Integer, Long> statusesOfGateway(int gateway) {
        Map<Integer, Long> out = new TreeMap<>();
        byGateway.getOrDefault(gateway, Map.of()).forEach((s, n) -> out.put(s, n.sum()));
        return out;
    }

    long predictedOk(String userPrefix) {
        LongAdder n = predictedOk.get(userPrefix);
        return n == null ? 0 : n.sum();
    }

    long actualsStored(String userPrefix) {
        LongAdder n = actualsStored.get(userPrefix);
        return n == null ? 0 : n.sum();
    }

    int refusedActuals() {
        return refusedActuals.size();
    }

    /** Clears the status counts (between faults; per-second counts keep their absolute seconds). */
    void resetStatuses() {
        statuses.clear();
        byGateway.clear();
    }

    /** A rentals prediction body (the first hour of hour.csv). */
    static String sampleBody() {
        return HOURS.get(0).body();
    }

    private static List<Hour> hours() {
        List<Hour> out = new ArrayList<>();
        for (BikeSharingData.Hour hour : BikeSharingData.load()) {
            StringBuilder json = new StringBuilder("{\"features\":{");
            float[] f = hour.features();
            for (int i = 0; i < RentalFeatures.COUNT; i++) {
                json.append(i > 0 ? "," : "").append('"').append(RentalFeatures.NAMES.get(i)).append("\":");
                json.append(f[i] == Math.rint(f[i]) ? Long.toString((long) f[i]) : Float.toString(f[i]));
            }
            out.add(new Hour(json.append("}}").toString(), Math.round(hour.count())));
        }
        return out;
    }

    @Override
    public void close() {
        running = false;
        pool.disposeLater().block(Duration.ofSeconds(10));
    }
}

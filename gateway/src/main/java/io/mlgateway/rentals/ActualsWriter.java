package io.mlgateway.rentals;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.mlgateway.shared.actuals.ActualsTable;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * Group commit for actuals: concurrent {@code POST /v1/rentals/actuals} calls share one INSERT and one transaction.
 * A call that finds no write in flight is written at once (no added latency when quiet); calls arriving during a
 * write wait for it and then go together. Each call is answered only after its own rows are committed, so an
 * acknowledged actual is durable, as before.
 *
 * <p>Why: every insert into {@code actual_rentals} notifies the retrainer ({@code pg_notify}), and PostgreSQL
 * serializes the commits of notifying transactions, each waiting for its WAL flush. One actual per request at
 * 250 requests/s took the actuals p99 to 51 ms in the Gatling feedback loop (docs/BENCHMARKS.md); batching the
 * commits removes the queue.
 *
 * <p>A call whose request ids overlap a call already in the batch waits for the next one, so each call's outcomes
 * (stored, duplicate, unknown) are exactly what a write of its own would have said.
 */
@Component
public class ActualsWriter {

    private final ActualsTable table;
    private final int maxRows;
    private final DistributionSummary batchRows;
    private final ArrayDeque<Pending> waiting = new ArrayDeque<>();
    private boolean writing;

    /** At most five full calls ({@code gateway.rentals.max-actuals} each) per write. */
    @Autowired
    public ActualsWriter(ActualsTable table, RentalsProperties properties, MeterRegistry meters) {
        this(table, 5 * properties.maxActuals(), meters);
    }

    /** @param maxRows most rows in one write; a single call larger than this is written alone */
    public ActualsWriter(ActualsTable table, int maxRows, MeterRegistry meters) {
        this.table = table;
        this.maxRows = maxRows;
        this.batchRows = DistributionSummary.builder("gateway.actuals.write.rows")
                .description("actuals per INSERT (concurrent calls share one)")
                .serviceLevelObjectives(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000).register(meters);
    }

    /** Stores the call's actuals (distinct request ids); outcomes by request id, once committed. */
    public Mono<Map<UUID, ActualsTable.Outcome>> store(List<ActualsTable.Actual> actuals) {
        if (actuals.isEmpty()) {
            return Mono.just(Map.of());
        }
        return Mono.create(sink -> {
            boolean start;
            synchronized (this) {
                waiting.add(new Pending(actuals, sink));
                start = !writing;
                writing = true;
            }
            if (start) {
                writeNext();
            }
        });
    }

    /** Takes what waits (within maxRows, without overlapping ids) and writes it; then the next, until none. */
    private void writeNext() {
        List<Pending> batch = new ArrayList<>();
        List<ActualsTable.Actual> rows = new ArrayList<>();
        synchronized (this) {
            Set<UUID> ids = new HashSet<>();
            for (Iterator<Pending> it = waiting.iterator(); it.hasNext(); ) {
                Pending call = it.next();
                if (!batch.isEmpty() && (rows.size() + call.actuals().size() > maxRows || overlaps(call, ids))) {
                    continue;
                }
                it.remove();
                batch.add(call);
                rows.addAll(call.actuals());
                call.actuals().forEach(a -> ids.add(a.requestId()));
            }
            if (batch.isEmpty()) {
                writing = false;
                return;
            }
        }
        batchRows.record(rows.size());
        Mono.defer(() -> table.store(rows)).subscribe(
                outcomes -> {
                    for (Pending call : batch) {
                        Map<UUID, ActualsTable.Outcome> own = new HashMap<>();
                        call.actuals().forEach(a -> own.put(a.requestId(), outcomes.get(a.requestId())));
                        call.sink().success(own);
                    }
                    writeNext();
                },
                error -> {
                    batch.forEach(call -> call.sink().error(error));
                    writeNext();
                });
    }

    private static boolean overlaps(Pending call, Set<UUID> ids) {
        for (ActualsTable.Actual a : call.actuals()) {
            if (ids.contains(a.requestId())) {
                return true;
            }
        }
        return false;
    }

    private record Pending(List<ActualsTable.Actual> actuals, MonoSink<Map<UUID, ActualsTable.Outcome>> sink) {
    }
}

package io.mlgateway.loadtests.affinity;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * deploy/compose/haproxy.cfg for gateways on this machine, as ScaleOutTest and load-tests/bench/affinity.sh run
 * HAProxy: the routing, checks and retries as they are; the Docker DNS resolver out, ports in, a global connection
 * limit a test process's file limit allows, one server line per gateway made like compose's gateway-1 (with the
 * next id), and each request's routing key captured in the log (the {key} after the headers), so a run can tell
 * where each user went.
 *
 * <p>{@code java -cp … io.mlgateway.loadtests.affinity.BalancerConfig COMPOSE_CFG API_PORT STATS_PORT HEALTH_PORT
 * NAME=PORT:MANAGEMENT_PORT...} prints the configuration.
 */
public final class BalancerConfig {

    /** A gateway as the balancer sees it: its server name, API port and management port on 127.0.0.1. */
    public record Server(String name, int port, int management) {
    }

    private BalancerConfig() {
    }

    public static void main(String[] args) throws IOException {
        List<Server> servers = new ArrayList<>();
        for (int i = 4; i < args.length; i++) {
            String[] nameAndPorts = args[i].split("[=:]");
            servers.add(new Server(nameAndPorts[0], Integer.parseInt(nameAndPorts[1]), Integer.parseInt(nameAndPorts[2])));
        }
        System.out.print(of(Files.readString(Path.of(args[0])), Integer.parseInt(args[1]), Integer.parseInt(args[2]),
                Integer.parseInt(args[3]), servers));
    }

    public static String of(String compose, int api, int stats, int health, List<Server> gateways) {
        StringBuilder config = new StringBuilder();
        boolean skipping = false;
        for (String line : compose.split("\n", -1)) {
            if (!line.isEmpty() && !Character.isWhitespace(line.charAt(0)) && !line.startsWith("#")) {
                skipping = line.startsWith("resolvers ");
            }
            if (!skipping) {
                config.append(line).append('\n');
            }
        }
        String text = config.toString()
                .replace(" resolvers docker", "")
                .replace("check port 8081", "check")
                .replace("bind :8080", "bind 127.0.0.1:" + api)
                .replace("bind :8404", "bind 127.0.0.1:" + stats)
                .replace("bind :8405", "bind 127.0.0.1:" + health)
                // A container raises its file limit for maxconn; a test process keeps its own (often 20,000 here).
                .replaceFirst("(?m)^(\\s+)maxconn \\d+", "$1maxconn 2000");
        Matcher first = Pattern.compile("(?m)^(\\s+)server gateway-1 gateway-1:8080 id 1(.*)$").matcher(text);
        if (!first.find()) {
            throw new IllegalStateException("deploy/compose/haproxy.cfg has no 'server gateway-1 gateway-1:8080 id 1'");
        }
        StringBuilder servers = new StringBuilder();
        for (int i = 0; i < gateways.size(); i++) {
            Server gateway = gateways.get(i);
            servers.append(first.group(1)).append("server ").append(gateway.name()).append(" 127.0.0.1:")
                    .append(gateway.port()).append(" port ").append(gateway.management()).append(" id ").append(i + 1)
                    .append(first.group(2)).append('\n');
        }
        text = text.replaceAll("(?m)^\\s+server gateway-\\d+ gateway-\\d+:8080 id \\d+.*\n", "");
        text = text.replaceFirst("(?m)^(\\s+)(default-server .*)$", "$1$2\n"
                + Matcher.quoteReplacement(servers.toString().stripTrailing()));
        return text.replaceFirst("(?m)^(\\s+)default_backend gateways$",
                "$1http-request capture var(txn.user) len 80\n$1default_backend gateways");
    }
}

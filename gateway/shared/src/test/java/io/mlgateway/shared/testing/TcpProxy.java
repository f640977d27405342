package io.mlgateway.shared.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback TCP forwarder in front of a real local service (PostgreSQL, Redis), so a test can take the service
 * away from the code under test and give it back without touching the server other tests use:
 * <ul>
 *   <li>{@link #cut()}: an outage that the client notices. Every open connection is closed and new ones are
 *       accepted and closed at once, as when the server is down or restarting.</li>
 *   <li>{@link #pause()}: a partition that the client does not notice. Connections stay open but no byte moves
 *       either way, so only the client's own timeouts can end a request.</li>
 *   <li>{@link #restore()}: forwarding again; paused connections carry on where they stopped.</li>
 * </ul>
 * Plain blocking sockets, two threads per connection: test traffic is a handful of connections.
 */
public final class TcpProxy implements AutoCloseable {

    private static final AtomicInteger IDS = new AtomicInteger();

    private final int targetPort;
    private final ServerSocket server;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final Object gate = new Object();
    private final AtomicInteger accepted = new AtomicInteger();
    private final String name = "tcp-proxy-" + IDS.incrementAndGet();
    private volatile boolean cut;
    private volatile boolean paused;
    private volatile boolean closed;

    private TcpProxy(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptLoop, name + "-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Listens on an ephemeral loopback port and forwards to {@code 127.0.0.1:targetPort}. */
    public static TcpProxy start(int targetPort) {
        try {
            return new TcpProxy(targetPort);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Connections accepted so far, including those dropped while cut. */
    public int acceptedConnections() {
        return accepted.get();
    }

    /** Connections forwarding (or paused) now. */
    public int openConnections() {
        return sockets.size() / 2;
    }

    /** Closes every open connection and drops new ones until {@link #restore()}. */
    public void cut() {
        synchronized (gate) {
            cut = true;
            gate.notifyAll(); // paused pumps wake up and end their connection
        }
        for (Socket socket : sockets) {
            closeQuietly(socket);
        }
    }

    /** Stops moving bytes on every connection, open or new, until {@link #restore()}; closes nothing. */
    public void pause() {
        paused = true;
    }

    public void restore() {
        synchronized (gate) {
            cut = false;
            paused = false;
            gate.notifyAll();
        }
    }

    @Override
    public void close() {
        closed = true;
        restore();
        closeQuietly(server);
        for (Socket socket : sockets) {
            closeQuietly(socket);
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            accepted.incrementAndGet();
            if (cut) {
                closeQuietly(client);
                continue;
            }
            Socket upstream = new Socket();
            try {
                upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 5000);
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
            } catch (IOException e) {
                closeQuietly(client);
                closeQuietly(upstream);
                continue;
            }
            sockets.add(client);
            sockets.add(upstream);
            if (cut) { // cut() ran while this pair was being connected and could not see it
                closePair(client, upstream);
                continue;
            }
            int id = accepted.get();
            pump(client, upstream, name + "-" + id + "-up");
            pump(upstream, client, name + "-" + id + "-down");
        }
    }

    private void pump(Socket from, Socket to, String threadName) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[64 * 1024];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    awaitForwarding();
                    if (cut || closed) {
                        break;
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // the other pump or cut() closed a socket: the connection is over
            } finally {
                closePair(from, to);
            }
        }, threadName);
        thread.setDaemon(true);
        thread.start();
    }

    /** Holds a pump while paused: what it has read stays with it, and the sender's buffers fill up. */
    private void awaitForwarding() throws InterruptedException {
        synchronized (gate) {
            while (paused && !cut && !closed) {
                gate.wait();
            }
        }
    }

    private void closePair(Socket a, Socket b) {
        closeQuietly(a);
        closeQuietly(b);
        sockets.remove(a);
        sockets.remove(b);
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception ignored) {
            // already closed
        }
    }
}

package io.mlgateway.api;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/** The lines written to the {@code access} logger while attached. */
final class AccessLogLines {

    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    void attach() {
        Logger access = (Logger) LoggerFactory.getLogger("access");
        appender.setContext(access.getLoggerContext());
        appender.start();
        access.addAppender(appender);
    }

    void detach() {
        ((Logger) LoggerFactory.getLogger("access")).detachAppender(appender);
    }

    /** A copy of the lines so far (the appender may be written to meanwhile). */
    List<ILoggingEvent> lines() {
        return List.copyOf(appender.list);
    }
}

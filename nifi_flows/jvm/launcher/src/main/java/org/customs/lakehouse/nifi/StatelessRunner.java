package org.customs.lakehouse.nifi;

import org.apache.nifi.bundle.Bundle;
import org.apache.nifi.nar.NarClassLoader;
import org.apache.nifi.nar.NarUnpackMode;
import org.apache.nifi.nar.NarUnpacker;
import org.apache.nifi.nar.SystemBundle;
import org.apache.nifi.stateless.config.PropertiesFileEngineConfigurationParser;
import org.apache.nifi.stateless.config.StatelessConfigurationException;
import org.apache.nifi.stateless.engine.NarUnpackLock;
import org.apache.nifi.stateless.engine.StatelessEngineConfiguration;
import org.apache.nifi.stateless.flow.DataflowDefinition;
import org.apache.nifi.stateless.flow.DataflowDefinitionParser;
import org.apache.nifi.stateless.flow.DataflowTrigger;
import org.apache.nifi.stateless.flow.StatelessDataflow;
import org.apache.nifi.stateless.flow.StatelessDataflowFactory;
import org.apache.nifi.stateless.flow.StatelessDataflowValidation;
import org.apache.nifi.stateless.flow.TriggerResult;
import org.apache.nifi.components.state.Scope;
import org.apache.nifi.flowfile.FlowFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Properties;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Runs one NiFi Stateless dataflow once and exits: the lakehouse's replacement for
 * {@code nifi-stateless-bootstrap}'s {@code RunStatelessFlow}, which is not published on the
 * Maven Central mirror available to this project for any NiFi 2.x version.
 *
 * <p>Usage: {@code StatelessRunner <engine.properties> <flow.properties> [state.properties]}. The two files have the
 * same format as NiFi's own ({@code nifi.stateless.*} keys), so a flow that runs here also runs
 * with the official {@code bin/nifi-stateless.sh}.
 *
 * <p>Unlike the upstream runner, the exit code reflects the outcome, so callers need not parse
 * logs: 0 the trigger succeeded (and was acknowledged), 1 bad arguments or configuration,
 * 2 the flow failed validation, 3 the trigger failed (rolled back), 4 any other error.
 * The last stdout line is always {@code STATELESS_RESULT {...json...}}.
 *
 * <p>The optional third argument is a component-state file: Stateless keeps processor state
 * (e.g. QueryDatabaseTable's maximum values, ListFile's timestamps) only in memory, so an
 * incremental source would start from scratch on every run. When given, the state is loaded
 * before the trigger and written back (atomically) only after a successful, acknowledged
 * trigger, so a failed run never advances the watermark.
 */
public final class StatelessRunner {
    private static final Logger logger = LoggerFactory.getLogger(StatelessRunner.class);
    /** Name prefix of the unpacked engine NAR, as NarUnpacker names its directories. */
    private static final String STATELESS_NAR_PREFIX = "nifi-stateless-nar-";
    /** NarUnpacker wants the framework NAR id; Stateless has none, so it is never required. */
    private static final String FRAMEWORK_NAR_ID = "nifi-framework-nar";

    static final int EXIT_OK = 0;
    static final int EXIT_CONFIG = 1;
    static final int EXIT_INVALID = 2;
    static final int EXIT_TRIGGER_FAILED = 3;
    static final int EXIT_ERROR = 4;

    private StatelessRunner() {
    }

    public static void main(final String[] args) {
        // Route java.util.logging (used by a few libraries) through logback.
        SLF4JBridgeHandler.removeHandlersForRootLogger();
        SLF4JBridgeHandler.install();
        if (args.length != 2 && args.length != 3) {
            System.err.println("usage: StatelessRunner <engine.properties> <flow.properties> [state.properties]");
            finish(EXIT_CONFIG, "usage", 0, 0, Map.of(), "expected 2 or 3 arguments, got " + args.length);
            return;
        }
        int code;
        try {
            code = run(new File(args[0]), new File(args[1]), args.length == 3 ? new File(args[2]) : null);
        } catch (final StatelessConfigurationException e) {
            logger.error("Stateless configuration is invalid", e);
            code = finish(EXIT_CONFIG, "config_error", 0, 0, Map.of(), String.valueOf(e.getMessage()));
        } catch (final Throwable t) {
            logger.error("Stateless run failed", t);
            code = finish(EXIT_ERROR, "error", 0, 0, Map.of(), t.toString());
        }
        // Processor threads (e.g. scheduled pools of some components) may be non-daemon.
        System.exit(code);
    }

    private static int run(final File engineFile, final File flowFile, final File stateFile)
            throws IOException, StatelessConfigurationException, InterruptedException {
        final long initStart = System.nanoTime();
        final StatelessEngineConfiguration engineConfig =
                new PropertiesFileEngineConfigurationParser().parseEngineConfiguration(engineFile);

        // NiFi expects the extensions' root loader to be a child of the application class
        // loader (upstream uses an allow-list loader there; extension discovery calls
        // root.getParent().getResources(...)). Our application class path is exactly lib/, the
        // jars that NiFi's own assembly exposes to extensions, so plain delegation is enough.
        final ClassLoader rootClassLoader = new URLClassLoader("lakehouse-stateless-root", new URL[0],
                ClassLoader.getSystemClassLoader());
        final ClassLoader engineClassLoader = loadEngine(engineConfig, rootClassLoader);
        Thread.currentThread().setContextClassLoader(engineClassLoader);

        final DataflowDefinitionParser parser = single(engineClassLoader, DataflowDefinitionParser.class);
        final DataflowDefinition definition = parser.parseFlowDefinition(flowFile, engineConfig, List.of());
        final StatelessDataflowFactory factory = single(engineClassLoader, StatelessDataflowFactory.class);
        // Extensions get the root class loader as parent: only the launcher's lib/ (APIs,
        // logging) and the JDK, never the engine NAR's private dependencies.
        final StatelessDataflow dataflow = factory.createDataflow(engineConfig, definition, rootClassLoader);
        boolean started = false;
        try {
            try {
                dataflow.initialize(() -> true);
            } catch (final IllegalStateException e) {
                // NiFi 2.3.0 starts the processors inside initialize() and throws there when a
                // component is invalid (e.g. a parameter points at a missing directory), before
                // performValidation() could report it.
                logger.error("Dataflow could not start", e);
                final long initMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - initStart);
                return finish(EXIT_INVALID, "invalid", initMillis, 0, Map.of(), String.valueOf(e.getMessage()));
            }
            started = true;
            final StatelessDataflowValidation validation = dataflow.performValidation();
            final long initMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - initStart);
            if (!validation.isValid()) {
                logger.error("Dataflow is not valid: {}", validation);
                return finish(EXIT_INVALID, "invalid", initMillis, 0, Map.of(), validation.toString());
            }
            logger.info("Initialized Stateless dataflow in {} ms", initMillis);
            if (stateFile != null) {
                loadState(dataflow, stateFile);
            }

            // -Dlakehouse.stateless.run.seconds=N keeps triggering for N seconds: a listening
            // source (ListenHTTP, ConsumeMQTT) only receives while the dataflow is running.
            // Each trigger is its own transaction, acknowledged before the next one.
            final long runNanos = TimeUnit.SECONDS.toNanos(Long.getLong("lakehouse.stateless.run.seconds", 0L));
            final long triggerStart = System.nanoTime();
            final Map<String, Integer> outputs = new TreeMap<>();
            long triggerMillis;
            while (true) {
                final DataflowTrigger trigger = dataflow.trigger();
                final TriggerResult result = trigger.getResult();
                triggerMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - triggerStart);
                for (final Map.Entry<String, List<FlowFile>> e : result.getOutputFlowFiles().entrySet()) {
                    outputs.merge(e.getKey(), e.getValue().size(), Integer::sum);
                }
                if (!result.isSuccessful()) {
                    final String cause = result.getFailureCause().map(Throwable::toString).orElse("unknown cause");
                    result.getFailureCause().ifPresent(c -> logger.error("Dataflow trigger failed", c));
                    return finish(EXIT_TRIGGER_FAILED, result.isCanceled() ? "canceled" : "failed",
                            initMillis, triggerMillis, outputs, cause);
                }
                result.acknowledge();
                if (stateFile != null) {
                    saveState(dataflow, stateFile);
                }
                if (System.nanoTime() - triggerStart >= runNanos) {
                    break;
                }
                Thread.sleep(100L);
            }
            logger.info("Ran dataflow in {} ms", triggerMillis);
            return finish(EXIT_OK, "success", initMillis, triggerMillis, outputs, null);
        } finally {
            // After a failed start NiFi's shutdown only adds stack traces from its already
            // stopped schedulers, burying the real error in the log tail; the JVM exits anyway.
            if (started) {
                dataflow.shutdown();
            }
        }
    }

    /**
     * Unpacks the framework NAR directory (only nifi-stateless-nar lives there) and returns a
     * class loader over the engine. With verifyHash=true NarUnpacker re-unpacks only a NAR whose
     * digest changed (e.g. after scripts/nifi_setup.sh rebuilt it), so a warm working directory
     * makes start-up much faster while never running a stale engine.
     */
    private static ClassLoader loadEngine(final StatelessEngineConfiguration config, final ClassLoader root)
            throws IOException {
        final File narDirectory = config.getNarDirectory();
        final File expansion = new File(config.getWorkingDirectory(), "nar");
        final File frameworkWorkingDir = new File(expansion, "framework");
        final File extensionsWorkingDir = new File(expansion, "extensions");
        if (!extensionsWorkingDir.isDirectory() && !extensionsWorkingDir.mkdirs()) {
            throw new IOException("cannot create NAR working directory " + extensionsWorkingDir);
        }
        final Bundle systemBundle = SystemBundle.create(narDirectory.getAbsolutePath(), root);
        NarUnpackLock.lock();
        try {
            NarUnpacker.unpackNars(systemBundle, frameworkWorkingDir, extensionsWorkingDir,
                    List.of(narDirectory.toPath()), false, FRAMEWORK_NAR_ID, false, true,
                    NarUnpackMode.UNPACK_TO_UBER_JAR, coordinate -> true);
        } finally {
            NarUnpackLock.unlock();
        }
        final File[] candidates = extensionsWorkingDir.listFiles(
                f -> f.isDirectory() && f.getName().startsWith(STATELESS_NAR_PREFIX));
        if (candidates == null || candidates.length != 1) {
            throw new IOException("expected exactly one " + STATELESS_NAR_PREFIX + "*.nar in "
                    + narDirectory + " (nifi.stateless.nar.directory); found "
                    + (candidates == null ? 0 : candidates.length));
        }
        try {
            return new NarClassLoader(candidates[0], root);
        } catch (final ClassNotFoundException e) {
            throw new IOException("cannot create class loader for " + candidates[0], e);
        }
    }

    /** Restores component state saved by {@link #saveState}: keys are {@code <SCOPE>.<component id>}. */
    private static void loadState(final StatelessDataflow dataflow, final File stateFile) throws IOException {
        if (!stateFile.isFile()) {
            logger.info("No component state file {} yet: components start without state", stateFile);
            return;
        }
        final Properties props = new Properties();
        try (InputStream in = Files.newInputStream(stateFile.toPath())) {
            props.load(in);
        }
        for (final Scope scope : Scope.values()) {
            final Map<String, String> states = new HashMap<>();
            final String prefix = scope.name() + ".";
            for (final String key : props.stringPropertyNames()) {
                if (key.startsWith(prefix)) {
                    states.put(key.substring(prefix.length()), props.getProperty(key));
                }
            }
            if (!states.isEmpty()) {
                dataflow.setComponentStates(states, scope);
            }
        }
        logger.info("Loaded component state from {}", stateFile);
    }

    private static void saveState(final StatelessDataflow dataflow, final File stateFile) throws IOException {
        final Properties props = new Properties();
        for (final Scope scope : Scope.values()) {
            final Map<String, String> states = dataflow.getComponentStates(scope);
            if (states != null) {
                states.forEach((id, value) -> props.setProperty(scope.name() + "." + id, value));
            }
        }
        final File parent = stateFile.getAbsoluteFile().getParentFile();
        if (parent != null && !parent.isDirectory() && !parent.mkdirs()) {
            throw new IOException("cannot create directory for state file " + stateFile);
        }
        final File tmp = new File(parent, stateFile.getName() + ".tmp");
        try (OutputStream out = Files.newOutputStream(tmp.toPath())) {
            props.store(out, "NiFi Stateless component state (written by StatelessRunner)");
        }
        Files.move(tmp.toPath(), stateFile.toPath(), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
        logger.info("Saved component state to {}", stateFile);
    }

    private static <T> T single(final ClassLoader loader, final Class<T> type) {
        final Iterator<T> it = ServiceLoader.load(type, loader).iterator();
        if (!it.hasNext()) {
            throw new IllegalStateException("no " + type.getName() + " in nifi-stateless-nar");
        }
        final T first = it.next();
        if (it.hasNext()) {
            throw new IllegalStateException("more than one " + type.getName() + " in nifi-stateless-nar");
        }
        return first;
    }

    /** Prints the machine-readable summary line that nifi_flows/stateless.py parses. */
    private static int finish(final int code, final String status, final long initMillis,
                              final long triggerMillis, final Map<String, Integer> outputs, final String error) {
        final StringBuilder json = new StringBuilder("{\"exit_code\":").append(code)
                .append(",\"status\":").append(quote(status))
                .append(",\"init_ms\":").append(initMillis)
                .append(",\"trigger_ms\":").append(triggerMillis)
                .append(",\"outputs\":{");
        boolean first = true;
        for (final Map.Entry<String, Integer> e : outputs.entrySet()) {
            json.append(first ? "" : ",").append(quote(e.getKey())).append(':').append(e.getValue());
            first = false;
        }
        json.append("},\"error\":").append(error == null ? "null" : quote(error)).append('}');
        System.out.flush();
        System.out.println("STATELESS_RESULT " + json);
        System.out.flush();
        return code;
    }

    private static String quote(final String s) {
        final StringBuilder b = new StringBuilder("\"");
        for (final char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}

package io.dalang.actors.audit;

import io.dalang.actors.NodeRoles;
import com.typesafe.config.Config;
import io.dalang.protocols.CborSerializable;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.apache.pekko.pattern.StatusReply;

/**
 * The single writer of the audit ledger: it gives each recorded entry its place in the hash chain
 * (seq, time, {@code prev_hash}, hash), appends it to the {@link AuditStore}, and stores a block's
 * Merkle root in the same transaction as the block's last event. A cluster has exactly one, as a
 * Cluster Singleton ({@link #init}), so the chain has one order.
 *
 * <p>{@link Record} replies nothing: entries are appended in the order they arrive, in batches, on the
 * blocking dispatcher; a failed append is retried with backoff. {@link RecordDurable} replies
 * {@code StatusReply<Done>} once its entry is stored, or an error at once ({@link #FULL}) when
 * {@code dalang.audit.max-pending} entries wait; {@link Admit} answers the same way without recording,
 * so that an edge can refuse an operation before doing it. A {@link Record} is only dropped beyond twice
 * {@code max-pending}, and the next batch then starts with an {@link AuditAction#AUDIT_GAP} event that
 * says how many were lost. On start the writer resumes from the stored head.
 * {@link Query} replies {@code StatusReply<Events>} (at most {@link #MAX_PAGE} events; page with
 * {@code afterSeq}); {@link Verify} replies {@code StatusReply<VerifyResult>}. Both run after every
 * entry recorded before them has been written, so a caller reads its own records. They reply
 * {@code StatusReply} rather than a plain value because the database may fail them.
 *
 * <p>With {@code dalang.audit.retention} set, every {@code prune-interval} the writer prunes the whole
 * blocks whose last event is older than the retention: it appends an {@link AuditAction#AUDIT_PRUNE}
 * event naming the last pruned event and, in the same transaction, deletes the events up to it and
 * records that checkpoint. The blocks' roots stay; the rest of the chain still verifies.
 */
public final class AuditActor {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(AuditActor.class);

  /** Most events one {@link Query} answers. */
  public static final int MAX_PAGE = 1000;
  /** The error of a {@link RecordDurable} or {@link Admit} refused because too many entries wait. */
  public static final String FULL = "the audit ledger has too many entries waiting to be written";
  private static final int BATCH = 256;
  private static final Duration MIN_BACKOFF = Duration.ofMillis(200);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(10);
  /** How long a stopping writer may go on writing what it was given (e.g. during a singleton hand-over). */
  private static final Duration STOP_GRACE = Duration.ofSeconds(10);

  public interface Command extends CborSerializable {}

  /** Appends one entry to the ledger; no reply. */
  public record Record(AuditEntry entry) implements Command {}

  /** Appends one entry; replies once it is stored, or {@link #FULL} at once. */
  public record RecordDurable(AuditEntry entry, ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /** Records nothing; replies success if a {@link RecordDurable} would be taken now, else {@link #FULL}. */
  public record Admit(ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /** The events the filter selects, at most {@link #MAX_PAGE}. */
  public record Query(AuditFilter filter, ActorRef<StatusReply<Events>> replyTo) implements Command {}

  /** Walks the whole stored chain and its roots. */
  public record Verify(ActorRef<StatusReply<VerifyResult>> replyTo) implements Command {}

  public record Events(List<AuditEvent> events) implements CborSerializable {}

  /** Where the stored chain ends: what the writer continues from. */
  private record Loaded(AuditChain.Head head, int blockSize, List<String> blockHashes) implements Command {}

  private record LoadFailed(String error) implements Command {}

  private record Appended() implements Command {}

  private record AppendFailed(String error) implements Command {}

  private enum Internal implements Command { RELOAD, STOP, STOP_NOW, PRUNE_TICK, NOTHING_TO_PRUNE }

  /** Retention found blocks to prune, through this event. */
  private record PruneDue(AuditChain.Head through) implements Command {}

  /** An entry waiting for its place, with the time the writer received it. */
  private record Pending(AuditEntry entry, long timeEpochMs, ActorRef<StatusReply<Done>> replyTo) {
    Pending(AuditEntry entry, long timeEpochMs) {
      this(entry, timeEpochMs, null);
    }
  }

  /**
   * Starts the cluster's one writer (or a proxy to it on other nodes) on the journal's database,
   * creating the audit tables if missing. Call once per node after the node joined the cluster; tell
   * the returned ref {@link Record}, ask it {@link Query} or {@link Verify}.
   */
  public static ActorRef<Command> init(ActorSystem<?> system, Config config) {
    return init(system, config, null);
  }

  /** As {@link #init(ActorSystem, Config)}, signing checkpoints with {@code anchor} (null: none). */
  public static ActorRef<Command> init(ActorSystem<?> system, Config config, AuditAnchor anchor) {
    return init(system, AuditStore.fromConfig(config), AuditSettings.from(config), anchor);
  }

  /** As {@link #init(ActorSystem, Config, AuditAnchor)}, with the store and settings already read. */
  public static ActorRef<Command> init(ActorSystem<?> system, AuditStore store, AuditSettings settings, AuditAnchor anchor) {
    var behavior = Behaviors.supervise(create(store, settings, Clock.systemUTC(), anchor))
        .onFailure(SupervisorStrategy.restartWithBackoff(MIN_BACKOFF, MAX_BACKOFF, 0.1));
    // STOP lets a handing-over writer finish what it was given before the next one starts.
    return ClusterSingleton.get(system).init(SingletonActor.of(behavior, "audit-ledger").withStopMessage(Internal.STOP)
        .withSettings(ClusterSingletonSettings.create(system).withRole(NodeRoles.CONTROL)));
  }

  /** The writer itself, for tests and for {@link #init}. */
  public static Behavior<Command> create(AuditStore store, AuditSettings settings, Clock clock) {
    return create(store, settings, clock, null);
  }

  /** The writer, signing a checkpoint outside the database per full block and the head after each batch. */
  public static Behavior<Command> create(AuditStore store, AuditSettings settings, Clock clock, AuditAnchor anchor) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> Behaviors.withStash(2 * settings.maxPending(),
        stash -> new AuditActor(ctx, timers, stash, store, settings, clock, anchor).loading())));
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final StashBuffer<Command> stash;
  private final AuditStore store;
  private final AuditSettings settings;
  private final Clock clock;
  private final AuditAnchor anchor;
  private final Executor blocking;
  private final Deque<Pending> pending = new ArrayDeque<>();
  private final List<Command> readsAfterFlush = new ArrayList<>();
  private AuditChain.Head head;
  private int blockSize;
  /** Hashes of the events of the current, not yet full block. */
  private List<String> blockHashes;
  /** The batch being written, and where the chain stands once it is. */
  private List<Pending> inFlight;
  /** How far the batch being written prunes (null: it does not). */
  private AuditChain.Head inFlightPrune;
  /** A prune found due, waiting for the writer to be free. */
  private AuditChain.Head prunePending;
  private AuditChain.Head inFlightHead;
  /** The batch failed and is back in {@link #pending} until a reload says whether it was stored after all. */
  private boolean inFlightReturned;
  private boolean searchingPrunable;
  private List<String> inFlightBlockHashes;
  private int failures;
  /** Entries lost since the last audit.gap event, and when the first of them was. */
  private long lost;
  private long lostSinceEpochMs;
  private boolean stopping;

  private AuditActor(ActorContext<Command> ctx, TimerScheduler<Command> timers, StashBuffer<Command> stash, AuditStore store,
      AuditSettings settings, Clock clock, AuditAnchor anchor) {
    this.anchor = anchor;
    this.ctx = ctx;
    this.timers = timers;
    this.stash = stash;
    this.store = store;
    this.settings = settings;
    this.clock = clock;
    this.blocking = ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
  }

  // ---- loading: read the head, stash everything else ----

  private Behavior<Command> loading() {
    load();
    return Behaviors.receive(Command.class)
        .onMessage(Loaded.class, m -> {
          resume(m);
          failures = 0;
          return stash.unstashAll(writing());
        })
        .onMessage(LoadFailed.class, m -> {
          retryLater("audit ledger: cannot read the stored chain ({}); retrying", m.error());
          return Behaviors.same();
        })
        .onMessageEquals(Internal.RELOAD, () -> {
          load();
          return Behaviors.same();
        })
        .onMessageEquals(Internal.STOP, () -> {
          if (!stash.isEmpty()) log.warn("audit ledger: stopped before the stored chain could be read; {} messages not handled", stash.size());
          return Behaviors.stopped();
        })
        .onMessage(Admit.class, m -> {
          m.replyTo().tell(stash.size() < settings.maxPending() ? StatusReply.ack() : StatusReply.error(FULL));
          return Behaviors.same();
        })
        .onMessage(RecordDurable.class, m -> {
          if (stash.size() < settings.maxPending()) {
            stash.stash(m);
          } else {
            m.replyTo().tell(StatusReply.error(FULL));
          }
          return Behaviors.same();
        })
        .onAnyMessage(m -> {
          if (stash.isFull()) {
            lose(m);
          } else {
            stash.stash(m);
          }
          return Behaviors.same();
        })
        .build();
  }

  private void load() {
    ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> {
      store.createTablesIfMissing();
      AuditChain.Head h = store.head();
      int size = store.chainBlockSize().orElse(settings.blockSize());
      long blockStart = AuditChain.blockOf(h.seq() + 1, size) * size + 1;
      List<String> hashes = h.seq() >= blockStart ? store.hashesFrom(blockStart) : List.of();
      if (anchor != null) {
        try {
          anchor.start(h, clock.millis());
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }
      return new Loaded(h, size, hashes);
    }, blocking), (loaded, err) -> err == null ? loaded : new LoadFailed(message(err)));
  }

  private void resume(Loaded m) {
    if (m.blockSize() != settings.blockSize()) {
      log.warn("audit ledger: dalang.audit.block-size is {} but the stored chain was started with {}; keeping {}",
          settings.blockSize(), m.blockSize(), m.blockSize());
    }
    if (m.blockHashes().size() != m.head().seq() % m.blockSize()) {
      log.error("audit ledger: the stored chain has gaps before seq {}; run `dalang audit verify`", m.head().seq());
    }
    head = m.head();
    blockSize = m.blockSize();
    blockHashes = new ArrayList<>(m.blockHashes());
    log.info("audit ledger: resuming after seq {} (block size {})", head.seq(), blockSize);
    if (settings.prunes() && !timers.isTimerActive(Internal.PRUNE_TICK)) {
      timers.startTimerWithFixedDelay(Internal.PRUNE_TICK, settings.pruneInterval());
    }
  }

  // ---- writing ----

  private Behavior<Command> writing() {
    return Behaviors.receive(Command.class)
        .onMessage(Record.class, m -> {
          if (waiting() >= 2 * settings.maxPending()) {
            lose(m);
          } else {
            pending.addLast(new Pending(m.entry(), clock.millis()));
            writeNext();
          }
          return Behaviors.same();
        })
        .onMessage(RecordDurable.class, m -> {
          if (waiting() >= settings.maxPending()) {
            m.replyTo().tell(StatusReply.error(FULL));
          } else {
            pending.addLast(new Pending(m.entry(), clock.millis(), m.replyTo()));
            writeNext();
          }
          return Behaviors.same();
        })
        .onMessage(Admit.class, m -> {
          m.replyTo().tell(waiting() < settings.maxPending() ? StatusReply.ack() : StatusReply.error(FULL));
          return Behaviors.same();
        })
        .onMessage(Query.class, m -> {
          readWhenFlushed(m);
          return Behaviors.same();
        })
        .onMessage(Verify.class, m -> {
          readWhenFlushed(m);
          return Behaviors.same();
        })
        .onMessage(Appended.class, m -> {
          if (inFlightPrune != null) log.info("audit ledger: pruned the events through seq {} (retention {})", inFlightPrune.seq(), settings.retention());
          head = inFlightHead;
          blockHashes = inFlightBlockHashes;
          inFlight.forEach(p -> acknowledge(p, StatusReply.ack()));
          inFlight = null;
          inFlightPrune = null;
          failures = 0;
          return afterWrite();
        })
        .onMessage(AppendFailed.class, m -> {
          // Put the batch back in front, in order; RELOAD decides whether it was written after all.
          for (int i = inFlight.size() - 1; i >= 0; i--) pending.addFirst(inFlight.get(i));
          inFlightReturned = true;
          retryLater("audit ledger: cannot append ({}); retrying", m.error());
          return Behaviors.same();
        })
        .onMessageEquals(Internal.RELOAD, () -> {
          load();
          return Behaviors.same();
        })
        .onMessageEquals(Internal.PRUNE_TICK, () -> {
          if (prunePending == null && inFlightPrune == null && !searchingPrunable) findPrunable();
          return Behaviors.same();
        })
        .onMessageEquals(Internal.NOTHING_TO_PRUNE, () -> {
          searchingPrunable = false;
          return Behaviors.same();
        })
        .onMessage(PruneDue.class, m -> {
          // One search at a time, so that a slow answer cannot ask for a prune that is already done.
          searchingPrunable = false;
          prunePending = m.through();
          writeNext();
          return Behaviors.same();
        })
        .onMessage(Loaded.class, m -> {
          if (inFlight != null && m.head().equals(inFlightHead)) {
            // The failed batch was committed after all (only its acknowledgement was lost).
            for (int i = 0; i < inFlight.size(); i++) acknowledge(pending.removeFirst(), StatusReply.ack());
          }
          inFlight = null;
          inFlightPrune = null;
          resume(m);
          return afterWrite(); // with nothing left to write, the reads waiting for a flush run now
        })
        .onMessage(LoadFailed.class, m -> {
          retryLater("audit ledger: cannot read the stored chain ({}); retrying", m.error());
          return Behaviors.same();
        })
        .onMessageEquals(Internal.STOP, () -> {
          stopping = true;
          timers.startSingleTimer(Internal.STOP_NOW, STOP_GRACE);
          return afterWrite();
        })
        .onMessageEquals(Internal.STOP_NOW, Behaviors::stopped)
        .onSignal(PostStop.class, s -> {
          if (!pending.isEmpty()) log.error("audit ledger: stopped with {} entries not written", pending.size());
          pending.forEach(p -> acknowledge(p, StatusReply.error("the audit ledger stopped before the entry was written")));
          return Behaviors.same();
        })
        .build();
  }

  /**
   * Chains the next batch onto the head and writes it, unless a write is under way. A due prune goes
   * alone: its audit.prune event, the deletion and the checkpoint in one transaction (and, if that
   * fails, not again until the next tick finds it due).
   */
  private void writeNext() {
    if (inFlight != null) return;
    if (lost > 0) {
      // Said first, so that the gap is in the chain before anything that came after the loss.
      pending.addFirst(new Pending(AuditEntry.failed("", "system", AuditAction.AUDIT_GAP, "", "entries were lost: too many waited to be written")
          .with(Map.of("lost", Long.toString(lost), "first_lost_epoch_ms", Long.toString(lostSinceEpochMs))), clock.millis()));
      log.error("audit ledger: recording an audit.gap of {} lost entries", lost);
      lost = 0;
    }
    if (pending.isEmpty() && prunePending == null) return;
    List<Pending> batch = new ArrayList<>();
    List<Pending> toChain = batch;
    if (prunePending != null) {
      inFlightPrune = prunePending;
      prunePending = null;
      toChain = List.of(new Pending(AuditEntry.ok("", "system", AuditAction.AUDIT_PRUNE, "")
          .with(Map.of("through_seq", Long.toString(inFlightPrune.seq()), "through_hash", inFlightPrune.hash(),
              "retention", settings.retention().toString())), clock.millis()));
    } else {
      for (var it = pending.iterator(); it.hasNext() && batch.size() < BATCH; ) {
        batch.add(it.next());
        it.remove();
      }
    }
    var events = new ArrayList<AuditEvent>(toChain.size());
    var roots = new ArrayList<BlockRoot>();
    var hashes = new ArrayList<>(blockHashes);
    AuditChain.Head h = head;
    for (Pending p : toChain) {
      AuditEvent e = AuditChain.next(h, p.timeEpochMs(), p.entry());
      events.add(e);
      h = AuditChain.headOf(e);
      hashes.add(e.hash());
      if (AuditChain.endsBlock(e.seq(), blockSize)) {
        roots.add(AuditChain.blockRoot(AuditChain.blockOf(e.seq(), blockSize), blockSize, hashes));
        hashes = new ArrayList<>();
      }
    }
    inFlight = batch;
    inFlightReturned = false;
    inFlightHead = h;
    inFlightBlockHashes = hashes;
    AuditChain.Head prune = inFlightPrune;
    ctx.pipeToSelf(CompletableFuture.runAsync(() -> {
      store.appendAndPrune(events, roots, prune);
      if (anchor != null) anchor.stored(events, roots);
    }, blocking),
        (ok, err) -> err == null ? new Appended() : new AppendFailed(message(err)));
  }

  /** Asks the store, off the actor, whether whole blocks have outlived the retention. */
  private void findPrunable() {
    searchingPrunable = true;
    long cutoff = clock.millis() - settings.retention().toMillis();
    ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> store.pruneCandidate(cutoff), blocking), (found, err) -> {
      if (err != null) {
        log.warn("audit ledger: cannot look for events to prune: {}", message(err));
        return Internal.NOTHING_TO_PRUNE;
      }
      return found.<Command>map(PruneDue::new).orElse(Internal.NOTHING_TO_PRUNE);
    });
  }

  private Behavior<Command> afterWrite() {
    writeNext();
    if (inFlight != null) return Behaviors.same();
    readsAfterFlush.forEach(this::read);
    readsAfterFlush.clear();
    return stopping ? Behaviors.stopped() : Behaviors.same();
  }

  private void readWhenFlushed(Command read) {
    if (inFlight == null && pending.isEmpty()) {
      read(read);
    } else {
      readsAfterFlush.add(read);
    }
  }

  /** Runs a read on the blocking dispatcher; the reply goes straight to the asker. */
  private void read(Command read) {
    if (read instanceof Query q) {
      AuditFilter f = q.filter().limit() == 0 || q.filter().limit() > MAX_PAGE ? q.filter().page(q.filter().afterSeq(), MAX_PAGE) : q.filter();
      CompletableFuture.supplyAsync(() -> store.query(f), blocking).whenComplete((events, err) ->
          q.replyTo().tell(err == null ? StatusReply.success(new Events(events)) : StatusReply.error(message(err))));
    } else if (read instanceof Verify v) {
      CompletableFuture.supplyAsync(() -> store.verify(blockSize), blocking).whenComplete((result, err) ->
          v.replyTo().tell(err == null ? StatusReply.success(result) : StatusReply.error(message(err))));
    }
  }

  private void retryLater(String format, String error) {
    failures++;
    long delay = Math.min(MAX_BACKOFF.toMillis(), MIN_BACKOFF.toMillis() << Math.min(failures - 1, 16));
    if (failures == 1 || failures % 10 == 0) log.warn(format, error);
    timers.startSingleTimer(Internal.RELOAD, Duration.ofMillis(delay));
  }

  /** Counts a lost entry for the next audit.gap event (never logs the entry: it may name a tenant's secret). */
  private void lose(Command m) {
    if (m instanceof Query q) q.replyTo().tell(StatusReply.error(FULL));
    if (m instanceof Verify v) v.replyTo().tell(StatusReply.error(FULL));
    if (!(m instanceof Record)) return;
    if (lost == 0) lostSinceEpochMs = clock.millis();
    lost++;
    if (lost == 1 || lost % 1000 == 0) {
      log.error("audit ledger: {} entries waiting, {} lost so far; an audit.gap event will say how many", waiting() + stash.size(), lost);
    }
  }

  /** Entries received and not yet stored: waiting, and in the batch being written. */
  private int waiting() {
    return pending.size() + (inFlight == null || inFlightReturned ? 0 : inFlight.size());
  }

  private static void acknowledge(Pending p, StatusReply<Done> reply) {
    if (p.replyTo() != null) p.replyTo().tell(reply);
  }

  private static String message(Throwable err) {
    Throwable t = err instanceof java.util.concurrent.CompletionException && err.getCause() != null ? err.getCause() : err;
    return t.getMessage() != null ? t.getMessage() : t.toString();
  }
}

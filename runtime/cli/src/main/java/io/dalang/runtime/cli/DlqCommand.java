package io.dalang.runtime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.runtime.http.Json;
import java.io.IOException;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code dalang dlq list | show ID | replay ID | replay --tenant T --all}: the dead-letter queue of a
 * running node, through its admin API ({@code /admin/v1/dlq}). Needs a platform-admin or operator key
 * (or a tenant-admin key, for its own tenant): {@code --key}, else {@code DALANG_ADMIN_KEY}, else
 * {@code <data-dir>/admin.key}. Replays are idempotent and audited ({@code job.replay}).
 *
 * <p>Exit codes as {@link AdminCall}'s.
 */
@Command(name = "dlq", mixinStandardHelpOptions = true, description = "List, show and replay dead-lettered jobs of a running node.",
    subcommands = {DlqCommand.List.class, DlqCommand.Show.class, DlqCommand.Replay.class})
public final class DlqCommand {
  @Command(name = "list", mixinStandardHelpOptions = true, description = "The dead-lettered jobs, oldest first, with their last error.")
  static final class List extends AdminCall {
    @Option(names = "--tenant", description = "Only this tenant's jobs")
    String tenant;

    @Option(names = "--limit", description = "At most this many jobs (1 to 500, default ${DEFAULT-VALUE})", defaultValue = "100")
    int limit;

    @Option(names = "--cursor", description = "The page after this cursor (printed at the end of the previous page)")
    String cursor;

    @Override
    Integer run(PrintWriter out) throws IOException, InterruptedException {
      String query = "?limit=" + limit + (tenant != null ? "&tenant=" + enc(tenant) : "") + (cursor != null ? "&cursor=" + enc(cursor) : "");
      JsonNode page = send("GET", "/admin/v1/dlq" + query);
      JsonNode jobs = page.path("jobs");
      out.printf("%-36s  %-16s  %8s  %-24s  %-24s  %s%n", "JOB", "TENANT", "ATTEMPTS", "ERROR", "DEAD-LETTERED AT", "LAST ENGINE/SLOT");
      for (JsonNode j : jobs) {
        JsonNode last = j.path("attempts").path(j.path("attempts").size() - 1);
        out.printf("%-36s  %-16s  %8d  %-24s  %-24s  %s/%s%n", j.path("id").asText(), j.path("tenant").asText(), j.path("attempts").size(),
            j.path("error").path("code").asText("-"), j.path("dead_lettered_at").asText(), last.path("engine").asText("-"),
            last.path("slot").asText("-"));
      }
      out.println(AuditCommand.plural(jobs.size(), "dead-lettered job"));
      if (!page.path("next_cursor").isNull() && !page.path("next_cursor").isMissingNode()) {
        out.println("more: dalang dlq list" + (tenant != null ? " --tenant " + tenant : "") + " --limit " + limit + " --cursor "
            + page.path("next_cursor").asText());
      }
      return OK;
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true, description = "One job with its whole attempt history, as JSON.")
  static final class Show extends AdminCall {
    @Parameters(paramLabel = "ID", description = "The job id")
    String id;

    @Override
    Integer run(PrintWriter out) throws IOException, InterruptedException {
      out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(send("GET", "/admin/v1/dlq/" + enc(id))));
      return OK;
    }
  }

  @Command(name = "replay", mixinStandardHelpOptions = true,
      description = {"Send a dead-lettered job (or all of a tenant's) back to the queue with a fresh attempt budget.",
          "A job that is not dead-lettered is left alone, and said so. Every replay is audited (job.replay)."})
  static final class Replay extends AdminCall {
    @Parameters(paramLabel = "ID", arity = "0..1", description = "The job id (or use --tenant T --all)")
    String id;

    @Option(names = "--tenant", description = "With --all: the tenant whose dead-lettered jobs to replay")
    String tenant;

    @Option(names = "--all", description = "Replay every dead-lettered job of --tenant")
    boolean all;

    @Option(names = "--replay-id", description = "Names this replay: running it again with the same id changes nothing (default: a new id)")
    String replayId;

    @Override
    Integer run(PrintWriter out) throws IOException, InterruptedException {
      String rid = replayId != null ? "replay_id=" + enc(replayId) : null;
      if (id != null && !all && tenant == null) {
        print(out, send("POST", "/admin/v1/dlq/" + enc(id) + "/replay" + (rid != null ? "?" + rid : "")));
        return OK;
      }
      if (id == null && all && tenant != null) {
        JsonNode r = send("POST", "/admin/v1/dlq/replay?tenant=" + enc(tenant) + (rid != null ? "&" + rid : ""));
        for (JsonNode j : r.path("jobs")) print(out, j);
        long replayed = 0;
        for (JsonNode j : r.path("jobs")) if (j.path("replayed").asBoolean()) replayed++;
        out.printf("%d of %s replayed (replay id %s)%n", replayed, AuditCommand.plural(r.path("jobs").size(), "dead-lettered job"),
            r.path("replay_id").asText());
        return OK;
      }
      throw new Usage("give a job ID, or --tenant T --all");
    }

    private static void print(PrintWriter out, JsonNode r) {
      out.printf("%s %s: %s%n", r.path("replayed").asBoolean() ? "replayed" : "unchanged", r.path("id").asText(), r.path("note").asText());
    }
  }
}

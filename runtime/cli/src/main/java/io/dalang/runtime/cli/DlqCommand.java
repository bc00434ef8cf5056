package io.dalang.runtime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.runtime.http.HttpClients;
import io.dalang.runtime.http.Json;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code dalang dlq list | show ID | replay ID | replay --tenant T --all}: the dead-letter queue of a
 * running node, through its admin API ({@code /admin/v1/dlq}). Needs a platform-admin or operator key
 * (or a tenant-admin key, for its own tenant): {@code --key}, else {@code DALANG_ADMIN_KEY}, else
 * {@code <data-dir>/admin.key}. Replays are idempotent and audited ({@code job.replay}).
 *
 * <p>Exit codes: 0 done, 1 the node refused or failed the request, 2 a usage error or no node answered.
 */
@Command(name = "dlq", mixinStandardHelpOptions = true, description = "List, show and replay dead-lettered jobs of a running node.",
    subcommands = {DlqCommand.List.class, DlqCommand.Show.class, DlqCommand.Replay.class})
public final class DlqCommand {
  static final int OK = 0;
  static final int REFUSED = 1;
  static final int UNUSABLE = 2;

  /** Which node, and the key to ask it with. */
  static final class Node {
    @Option(names = "--url", description = "The node's HTTP address (default $DALANG_URL or http://127.0.0.1:8080)")
    String url = System.getenv().getOrDefault("DALANG_URL", "http://127.0.0.1:8080");

    @Option(names = "--key", description = "Admin API key (default $DALANG_ADMIN_KEY, else <data-dir>/admin.key)")
    String key;

    @Option(names = "--data-dir", description = "Data dir whose admin.key to use (default $DALANG_DATA_DIR or ./data)")
    Path dataDir;

    String key() throws IOException {
      if (key != null) return key;
      return RunningNode.adminKey(dataDir());
    }

    Path dataDir() {
      return dataDir != null ? dataDir : Path.of(System.getenv().getOrDefault("DALANG_DATA_DIR", "data"));
    }
  }

  /** One admin API call: its JSON answer, or a message and exit code for the user. */
  abstract static class Call implements Callable<Integer> {
    @Spec CommandSpec spec;

    @CommandLine.Mixin Node node = new Node();

    abstract Integer run(PrintWriter out) throws IOException, InterruptedException;

    @Override
    public Integer call() {
      try {
        return run(spec.commandLine().getOut());
      } catch (Usage e) {
        spec.commandLine().getErr().println("dalang dlq " + spec.name() + ": " + e.getMessage());
        return UNUSABLE;
      } catch (Refused e) {
        spec.commandLine().getErr().println("dalang dlq " + spec.name() + ": " + e.getMessage());
        return REFUSED;
      } catch (IOException e) {
        spec.commandLine().getErr().println("dalang dlq " + spec.name() + ": no node answered at " + node.url + " (" + e + "); is `dalang serve` running?");
        return UNUSABLE;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return UNUSABLE;
      }
    }

    JsonNode send(String method, String path) throws IOException, InterruptedException {
      String key = node.key();
      if (key == null) throw new Usage("no admin key: pass --key, set DALANG_ADMIN_KEY, or point --data-dir at the node's data dir");
      var req = HttpRequest.newBuilder(URI.create(node.url.replaceAll("/+$", "") + path)).timeout(Duration.ofMinutes(2))
          .header("Authorization", "Bearer " + key).method(method, HttpRequest.BodyPublishers.noBody()).build();
      HttpResponse<String> resp = HttpClients.toLocalNode(node.dataDir()).send(req, HttpResponse.BodyHandlers.ofString());
      JsonNode body = Json.MAPPER.readTree(resp.body().isEmpty() ? "{}" : resp.body());
      if (resp.statusCode() != 200) {
        throw new Refused("HTTP " + resp.statusCode() + ": " + body.path("error").path("message").asText(resp.body()));
      }
      return body;
    }
  }

  static final class Usage extends RuntimeException {
    Usage(String message) {
      super(message);
    }
  }

  static final class Refused extends RuntimeException {
    Refused(String message) {
      super(message);
    }
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "The dead-lettered jobs, oldest first, with their last error.")
  static final class List extends Call {
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
  static final class Show extends Call {
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
  static final class Replay extends Call {
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

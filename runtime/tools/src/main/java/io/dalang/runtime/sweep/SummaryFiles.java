package io.dalang.runtime.sweep;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import io.dalang.protocols.sweep.SweepSummary;
import io.dalang.runtime.http.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Sweep summary files ({@link SweepSummary}) as the tools that consume them read them: {@code dalang kpi
 * check}, {@code dalang compare} and the baseline store. Errors are one line naming the file and what is
 * wrong with it, fit for a CLI.
 */
public final class SummaryFiles {
  // Fields a newer Dalang adds are ignored (the schema only ever adds); NaN stands for "not measured".
  private static final ObjectReader READER =
      Json.MAPPER.readerFor(SweepSummary.class).with(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS);

  /** Sweep ids name files in the baseline store: nothing that could leave its folder or hide in it. */
  private static final Pattern SAFE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,199}");

  private SummaryFiles() {}

  /** A summary file that cannot be used: missing, not JSON, or not a sweep summary. */
  public static final class UnusableSummary extends Exception {
    public UnusableSummary(String message) {
      super(message);
    }
  }

  /** Reads and checks one summary: a sweep id fit for a file name, and every variant named. */
  public static SweepSummary read(Path file) throws UnusableSummary {
    if (!Files.isRegularFile(file)) throw new UnusableSummary(file + " does not exist");
    SweepSummary s;
    try {
      s = READER.readValue(file.toFile());
    } catch (JsonParseException e) {
      throw new UnusableSummary(file + " is not valid JSON (line " + e.getLocation().getLineNr()
          + ", column " + e.getLocation().getColumnNr() + ")");
    } catch (MismatchedInputException e) {
      String field = e.getPath().stream()
          .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
          .collect(Collectors.joining(".")).replace(".[", "[");
      // A number field left out reads as null, which the mapper refuses for a primitive.
      String what = e.getOriginalMessage().contains("`null`") ? "' is missing or null" : "' has the wrong type";
      throw new UnusableSummary(file + " is not a sweep summary" + (field.isEmpty() ? "" : ": '" + field + what));
    } catch (JsonProcessingException e) {
      throw new UnusableSummary(file + " is not a sweep summary: " + e.getOriginalMessage().lines().findFirst().orElse(""));
    } catch (IOException e) {
      throw new UnusableSummary("cannot read " + file + ": " + e.getMessage());
    }
    if (s == null || s.schemaVersion() < 1) throw new UnusableSummary(file + " is not a sweep summary (no schema_version)");
    if (s.sweepId() == null || !isSafeId(s.sweepId())) {
      throw new UnusableSummary(file + ": sweep_id " + (s.sweepId() == null ? "is missing" : "'" + s.sweepId()
          + "' is not an id (letters, digits, '.', '_', '-')"));
    }
    if (s.variants() == null) throw new UnusableSummary(file + ": variants is missing");
    for (int i = 0; i < s.variants().size(); i++) {
      if (s.variants().get(i) == null || s.variants().get(i).name() == null) {
        throw new UnusableSummary(file + ": variants[" + i + "] has no name");
      }
    }
    return s;
  }

  /** Whether {@code id} can name a file in a folder without leaving it (no separators, no leading dot). */
  public static boolean isSafeId(String id) {
    return SAFE_ID.matcher(id).matches();
  }

  /** Writes {@code bytes} to {@code target} so that a reader sees the old file or the whole new one, never a part. */
  public static void writeAtomically(Path target, byte[] bytes) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    // A dot name in the same folder: the move stays on one file system, and listings skip it.
    Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
    try {
      Files.write(tmp, bytes);
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}

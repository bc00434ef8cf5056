package io.dalang.runtime.testing;

import io.dalang.runtime.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** Runs {@code dalang ARGS} in-process, as {@code Main} registers the commands, with its output captured. */
public final class DalangCli {
  private DalangCli() {}

  public record Run(int code, String out, String err) {}

  public static Run dalang(String... args) {
    var out = new StringWriter();
    var err = new StringWriter();
    var cli = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    return new Run(code, out.toString(), err.toString());
  }
}

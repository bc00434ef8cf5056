package io.dalang.runtime.sweep;

import io.dalang.protocols.sweep.SweepSummary;
import io.dalang.protocols.sweep.SweepSummary.Variant;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Locale;

/**
 * The sweep's frontier plot: tokens/s (x) against adherence (y), one labelled point per variant with
 * valid runs, the Pareto frontier joined by a line, the adherence floor dashed, the recommendation
 * ringed. Drawn once through {@link Canvas}, written as SVG (text, diffable) and PNG (for chat and
 * tickets).
 */
public final class FrontierPlot {
  static final int W = 800;
  static final int H = 540;
  private static final int LEFT = 80;
  private static final int RIGHT = 40;
  private static final int TOP = 84;
  private static final int BOTTOM = 80;

  private FrontierPlot() {}

  /** What a plot is drawn on. Coordinates are pixels from the top left. */
  interface Canvas {
    void line(double x1, double y1, double x2, double y2, String color, double width, boolean dashed);

    void circle(double cx, double cy, double r, String fill, String stroke);

    /** {@code anchor}: start, middle or end. */
    void text(double x, double y, String s, int size, String color, String anchor, boolean bold);
  }

  public static void writeSvg(SweepSummary s, Path file) throws IOException {
    var svg = new SvgCanvas();
    draw(s, svg);
    Files.writeString(file, svg.finish());
  }

  /** Writes the PNG; headless Java2D (needs a font: Debian's fontconfig and fonts-dejavu-core). */
  public static void writePng(SweepSummary s, Path file) throws IOException {
    var img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, W, H);
      draw(s, new Java2dCanvas(g));
    } finally {
      g.dispose();
    }
    if (!javax.imageio.ImageIO.write(img, "png", file.toFile())) throw new IOException("no PNG writer in this JDK");
  }

  static void draw(SweepSummary s, Canvas c) {
    var points = s.variants().stream().filter(v -> v.runsValid() > 0).toList();
    double maxTps = Math.max(1, points.stream().mapToDouble(Variant::tokensPerSecond).max().orElse(1));
    double xMax = niceCeil(maxTps * 1.1);
    double yMin = Math.min(s.recommendation() != null ? s.recommendation().adherenceFloor() : 1,
        points.stream().mapToDouble(Variant::adherence).min().orElse(0));
    yMin = Math.max(0, Math.floor(yMin * 10 - 0.5) / 10);
    double finalYMin = yMin;
    java.util.function.DoubleUnaryOperator px = x -> LEFT + x / xMax * (W - LEFT - RIGHT);
    java.util.function.DoubleUnaryOperator py = y -> TOP + (1.02 - y) / (1.02 - finalYMin) * (H - TOP - BOTTOM);
    var preset = s.provenance() != null && s.provenance().preset() != null ? s.provenance().preset().name() : "?";
    c.text(W / 2.0, 28, "Quantization sweep " + s.sweepId(), 16, "#111111", "middle", true);
    c.text(W / 2.0, 46, "preset " + preset + ", reference " + s.reference() + (s.includeInvalid() ? ", invalid runs included in this view" : ""),
        12, "#444444", "middle", false);
    // axes and grid
    for (int i = 0; i <= 5; i++) {
      double x = xMax * i / 5;
      c.line(px.applyAsDouble(x), TOP, px.applyAsDouble(x), H - BOTTOM, "#e5e5e5", 1, false);
      c.text(px.applyAsDouble(x), H - BOTTOM + 18, fmt(x), 11, "#333333", "middle", false);
      double y = yMin + (1.0 - yMin) * i / 5;
      c.line(LEFT, py.applyAsDouble(y), W - RIGHT, py.applyAsDouble(y), "#e5e5e5", 1, false);
      c.text(LEFT - 8, py.applyAsDouble(y) + 4, String.format(Locale.ROOT, "%.2f", y), 11, "#333333", "end", false);
    }
    c.line(LEFT, H - BOTTOM, W - RIGHT, H - BOTTOM, "#333333", 1.5, false);
    c.line(LEFT, TOP, LEFT, H - BOTTOM, "#333333", 1.5, false);
    c.text(W / 2.0, H - 36, "throughput (tokens/s, valid runs, engine timings)", 13, "#111111", "middle", false);
    c.text(22, TOP - 14, "adherence (greedy token agreement with " + s.reference() + ")", 13, "#111111", "start", false);
    if (s.recommendation() != null) {
      double fy = py.applyAsDouble(s.recommendation().adherenceFloor());
      c.line(LEFT, fy, W - RIGHT, fy, "#c0392b", 1.2, true);
      c.text(W - RIGHT - 4, fy - 6, "adherence floor " + s.recommendation().adherenceFloor(), 11, "#c0392b", "end", false);
    }
    // frontier, slowest to fastest
    var frontier = new ArrayList<Variant>();
    for (String n : s.frontier()) {
      Variant v = s.variant(n);
      if (v != null && v.runsValid() > 0) frontier.add(v);
    }
    frontier.sort(java.util.Comparator.comparingDouble(Variant::tokensPerSecond));
    for (int i = 1; i < frontier.size(); i++) {
      Variant a = frontier.get(i - 1);
      Variant b = frontier.get(i);
      c.line(px.applyAsDouble(a.tokensPerSecond()), py.applyAsDouble(a.adherence()), px.applyAsDouble(b.tokensPerSecond()),
          py.applyAsDouble(b.adherence()), "#2471a3", 2, false);
    }
    String rec = s.recommendation() != null ? s.recommendation().variant() : null;
    for (Variant v : points) {
      double x = px.applyAsDouble(v.tokensPerSecond());
      double y = py.applyAsDouble(v.adherence());
      boolean onFrontier = s.frontier().contains(v.name());
      if (v.name().equals(rec)) c.circle(x, y, 11, "none", "#27ae60");
      c.circle(x, y, 5, onFrontier ? "#2471a3" : "#999999", "#222222");
      c.text(x + 9, y - 8, v.name() + (v.isReference() ? " (reference)" : "") + (v.name().equals(rec) ? "  recommended" : ""), 12,
          "#111111", "start", v.name().equals(rec));
    }
    c.text(W / 2.0, H - 12, "blue: on the throughput/adherence frontier    grey: dominated    green ring: recommended", 11, "#555555",
        "middle", false);
  }

  private static String fmt(double x) {
    return x >= 100 ? String.format(Locale.ROOT, "%.0f", x) : String.format(Locale.ROOT, "%.1f", x);
  }

  /** 1, 2, 2.5 or 5 times a power of ten, at or above {@code x}. */
  static double niceCeil(double x) {
    double p = Math.pow(10, Math.floor(Math.log10(x)));
    for (double m : new double[] {1, 2, 2.5, 5, 10}) if (m * p >= x) return m * p;
    return 10 * p;
  }

  static final class SvgCanvas implements Canvas {
    private final StringBuilder sb = new StringBuilder();

    SvgCanvas() {
      sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(W).append("\" height=\"").append(H)
          .append("\" viewBox=\"0 0 ").append(W).append(' ').append(H).append("\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n")
          .append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    }

    @Override
    public void line(double x1, double y1, double x2, double y2, String color, double width, boolean dashed) {
      sb.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%.1f\"%s/>%n",
          x1, y1, x2, y2, color, width, dashed ? " stroke-dasharray=\"6,4\"" : ""));
    }

    @Override
    public void circle(double cx, double cy, double r, String fill, String stroke) {
      sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\" stroke=\"%s\" stroke-width=\"1.5\"/>%n",
          cx, cy, r, fill, stroke));
    }

    @Override
    public void text(double x, double y, String s, int size, String color, String anchor, boolean bold) {
      sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%d\" fill=\"%s\" text-anchor=\"%s\"%s>%s</text>%n",
          x, y, size, color, anchor, bold ? " font-weight=\"bold\"" : "", escape(s)));
    }

    String finish() {
      return sb + "</svg>\n";
    }

    static String escape(String s) {
      return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
  }

  static final class Java2dCanvas implements Canvas {
    private final Graphics2D g;

    Java2dCanvas(Graphics2D g) {
      this.g = g;
    }

    @Override
    public void line(double x1, double y1, double x2, double y2, String color, double width, boolean dashed) {
      g.setColor(Color.decode(color));
      g.setStroke(dashed ? new BasicStroke((float) width, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {6, 4}, 0)
          : new BasicStroke((float) width));
      g.draw(new java.awt.geom.Line2D.Double(x1, y1, x2, y2));
    }

    @Override
    public void circle(double cx, double cy, double r, String fill, String stroke) {
      var shape = new java.awt.geom.Ellipse2D.Double(cx - r, cy - r, 2 * r, 2 * r);
      if (!"none".equals(fill)) {
        g.setColor(Color.decode(fill));
        g.fill(shape);
      }
      g.setColor(Color.decode(stroke));
      g.setStroke(new BasicStroke(1.5f));
      g.draw(shape);
    }

    @Override
    public void text(double x, double y, String s, int size, String color, String anchor, boolean bold) {
      g.setColor(Color.decode(color));
      g.setFont(new Font(Font.SANS_SERIF, bold ? Font.BOLD : Font.PLAIN, size));
      double w = g.getFontMetrics().stringWidth(s);
      double dx = switch (anchor) {
        case "middle" -> -w / 2;
        case "end" -> -w;
        default -> 0;
      };
      g.drawString(s, (float) (x + dx), (float) y);
    }
  }
}

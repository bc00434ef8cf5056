package io.dalang.runtime.baseline;

import java.nio.file.Path;
import java.time.Instant;

/**
 * One sweep kept as a baseline.
 *
 * @param id the sweep's id
 * @param summary the stored copy of its summary
 * @param label free text set with {@code --label}, or null
 */
public record Baseline(String id, Instant addedAt, boolean pinned, String label, Path summary) {}

package io.dalang.runtime.admin;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * How many entities and events the journal holds per entity type: {@code dalang status}, read from the
 * file while no node holds it, or from {@code GET /admin/v1/journal} while one does.
 */
public record JournalCounts(String type, long entities, long events) {

  /** One row per entity type, by type. */
  public static List<JournalCounts> read(Connection c) throws SQLException {
    var counts = new TreeMap<String, long[]>();
    try (var st = c.createStatement();
         var rs = st.executeQuery("SELECT \"persistence_id\", COUNT(*) FROM PUBLIC.\"event_journal\" GROUP BY \"persistence_id\"")) {
      while (rs.next()) {
        String pid = rs.getString(1);
        long[] n = counts.computeIfAbsent(pid.contains("|") ? pid.substring(0, pid.indexOf('|')) : pid, k -> new long[2]);
        n[0]++;
        n[1] += rs.getLong(2);
      }
    }
    var out = new ArrayList<JournalCounts>();
    for (Map.Entry<String, long[]> e : counts.entrySet()) out.add(new JournalCounts(e.getKey(), e.getValue()[0], e.getValue()[1]));
    return out;
  }
}

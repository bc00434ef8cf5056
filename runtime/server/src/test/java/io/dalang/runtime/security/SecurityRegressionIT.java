package io.dalang.runtime.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.discovery.ClassNameFilter;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;

/**
 * Every attack test of issue 15 in one run (docs/security.md): the tests of this package (floods, the
 * HTTP edge, the fuzz) and the attack tests that live beside the code they attack (providers and
 * outbound connections, the host, log redaction). Each starts its own node over loopback; run together
 * they show that no fix undid another. A test added to this package is included without a change here.
 */
class SecurityRegressionIT {
  static final String[] ELSEWHERE = {
      "io.dalang.runtime.fallback.ProvidersEndToEndTest",
      "io.dalang.runtime.host.HostHardeningTest",
      "io.dalang.runtime.serve.LogRedactionEndToEndTest"};

  @Test
  void everyAttackTestPassesTogether() {
    var request = LauncherDiscoveryRequestBuilder.request()
        .selectors(selectPackage(getClass().getPackageName()))
        .filters(ClassNameFilter.excludeClassNamePatterns(".*\\.SecurityRegressionIT$"));
    for (String c : ELSEWHERE) request.selectors(selectClass(c));
    var listener = new SummaryGeneratingListener();
    LauncherFactory.create().execute(request.build(), listener);
    var summary = listener.getSummary();
    var report = new StringWriter();
    summary.printTo(new PrintWriter(report));
    summary.printFailuresTo(new PrintWriter(report), 30);
    assertEquals(0, summary.getTotalFailureCount(), report.toString());
    assertTrue(summary.getTestsSucceededCount() >= 20, "too few attack tests found:\n" + report);
  }
}

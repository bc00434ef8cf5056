package io.dalang.actors.audit;

import java.util.regex.Pattern;

/**
 * The actions Dalang records, named {@code noun.verb}. Callers may record others that follow the same
 * shape ({@link #isValid}); these constants are the ones the admin API and the authenticator use, so
 * that filters such as {@code --action key.revoke} find them.
 */
public final class AuditAction {
  private AuditAction() {}

  public static final String TENANT_CREATE = "tenant.create";
  public static final String TENANT_UPDATE = "tenant.update";
  public static final String TENANT_DELETE = "tenant.delete";
  public static final String POOL_GRANT = "pool.grant";
  public static final String POOL_CREATE = "pool.create";
  public static final String POOL_UPDATE = "pool.update";
  /** A provider created, changed or deleted; details say its base URL, models and whether it may reach private addresses. */
  public static final String PROVIDER_CREATE = "provider.create";
  public static final String PROVIDER_UPDATE = "provider.update";
  public static final String PROVIDER_DELETE = "provider.delete";
  public static final String KEY_ISSUE = "key.issue";
  public static final String KEY_REVOKE = "key.revoke";
  public static final String SECRET_WRITE = "secret.write";
  public static final String SECRET_READ = "secret.read";
  public static final String SECRET_DELETE = "secret.delete";
  /**
   * The writer pruned events by retention; details {@code through_seq} and {@code through_hash} name the
   * last pruned event. The latest one attests the checkpoint the remaining chain starts from.
   */
  public static final String AUDIT_PRUNE = "audit.prune";
  /**
   * Entries were lost before they could be written (more waited than the writer keeps); details {@code
   * lost} (how many) and {@code first_lost_epoch_ms}. Outcome {@code failed}.
   */
  public static final String AUDIT_GAP = "audit.gap";
  /** An operation refused for lack of credentials or permission; the target names the operation. */
  public static final String ACCESS_DENIED = "access.denied";

  private static final Pattern SHAPE = Pattern.compile("[a-z0-9][a-z0-9_-]*(\\.[a-z0-9][a-z0-9_-]*)+");

  /** Lower-case words separated by dots, at least two: {@code key.issue}, {@code slot.drain}. */
  public static boolean isValid(String action) {
    return action != null && action.length() <= AuditEntry.MAX_NAME && SHAPE.matcher(action).matches();
  }
}

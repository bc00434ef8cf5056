package io.dalang.actors.audit;

import io.dalang.protocols.CborSerializable;

/**
 * What a walk over the chain found: either intact ({@code ok}) up to its head, or the first position
 * where it is broken and why.
 *
 * @param count events checked and found intact (before the break, if broken)
 * @param headSeq seq of the last intact event (0 for an empty chain)
 * @param headHash hash of the last intact event ({@link AuditChain#GENESIS_HASH} for an empty chain)
 * @param roots block roots checked and found intact
 * @param firstBrokenSeq where the chain is first broken; 0 when ok
 * @param reason why it is broken, in words; empty when ok
 * @param linksChecked false for a filtered export: each event's own hash was checked, but not the
 *     links between events (events are missing by design) nor the block roots
 * @param prunedThroughSeq events up to this seq were pruned by retention (0: none); the walk started
 *     after it, from the checkpoint's hash
 */
public record VerifyResult(
    boolean ok, long count, long headSeq, String headHash, long roots, long firstBrokenSeq, String reason,
    boolean linksChecked, long prunedThroughSeq)
    implements CborSerializable {

  static VerifyResult intact(long count, long headSeq, String headHash, long roots, boolean linksChecked, long prunedThroughSeq) {
    return new VerifyResult(true, count, headSeq, headHash, roots, 0, "", linksChecked, prunedThroughSeq);
  }

  static VerifyResult broken(long count, long headSeq, String headHash, long roots, long at, String reason,
      boolean linksChecked, long prunedThroughSeq) {
    return new VerifyResult(false, count, headSeq, headHash, roots, at, reason, linksChecked, prunedThroughSeq);
  }
}

package io.dalang.actors.audit;

import io.dalang.protocols.CborSerializable;

/**
 * The Merkle root of one full block of the chain: events {@code firstSeq..lastSeq}, which are
 * {@code block * N + 1 .. (block + 1) * N} for the chain's block size N. See
 * {@link AuditChain#merkleRoot} for how it is computed.
 *
 * @param block the block number, from 0
 */
public record BlockRoot(long block, long firstSeq, long lastSeq, String root) implements CborSerializable {}

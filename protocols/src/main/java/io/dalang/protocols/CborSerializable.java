package io.dalang.protocols;

/**
 * Marker for every message, event and state that crosses an actor boundary or reaches the journal.
 * Bound to Pekko's {@code jackson-cbor} serializer; Java serialization stays off, so a type that
 * forgets this marker fails loudly instead of silently falling back.
 */
public interface CborSerializable {}

package io.dalang.engine;

/** What an engine is, for determinism and audit: its kind, version string and binary digest. */
public record EngineIdentity(String kind, String version, String digest) {}

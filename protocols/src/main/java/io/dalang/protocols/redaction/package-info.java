/**
 * Redaction of credentials and personal data in everything Dalang logs or exports: the {@link
 * io.dalang.protocols.redaction.Redactor} rules, the process-wide {@link
 * io.dalang.protocols.redaction.Redaction} holder and {@link io.dalang.protocols.redaction.KnownSecrets},
 * and the Logback converter that puts every log line through them. It lives in {@code protocols}
 * because every module logs and every module depends on this one; Logback is an optional dependency
 * here, loaded only by Logback itself.
 */
package io.dalang.protocols.redaction;

/**
 * The per-pool set of slot circuit breakers, with their metrics, owned by the pool's admission actor.
 * Not an API: {@link io.dalang.actors.breaker.CircuitBreaker} and its settings are.
 */
package io.dalang.actors.breaker.internal;

/**
 * The data structures behind {@link io.dalang.actors.admission.PoolAdmission} and the engine actor's
 * queue: the tenant-fair, priority- and deadline-aware {@link AdmissionQueue} and its parts. Not an API:
 * the admission package's actor and settings are; these may change with it.
 */
package io.dalang.actors.admission.internal;

/**
 * The fleet snapshot that {@link io.dalang.actors.placement.Placement} decides on. Not an API: the
 * placement package's decision, spec and actor are; this may change with them.
 */
package io.dalang.actors.placement.internal;

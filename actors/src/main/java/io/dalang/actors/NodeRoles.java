package io.dalang.actors;

/**
 * The cluster roles of Dalang nodes ({@code pekko.cluster.roles}, set from {@code dalang.node.roles}).
 * {@link #CONTROL} nodes host every sharded entity and the cluster singletons, and so need the journal;
 * nodes without it reach them through sharding and singleton proxies. {@link #GPU} nodes run a node
 * agent: they register an executor with their devices and host the model slots placed on them.
 */
public final class NodeRoles {
  public static final String CONTROL = "control";
  public static final String GPU = "gpu";

  private NodeRoles() {}
}

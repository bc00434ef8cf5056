package io.dalang.actors.secrets;

/**
 * Which secret a ciphertext belongs to: the additional authenticated data of its encryption. A
 * ciphertext copied to another tenant, namespace, name or version does not decrypt.
 *
 * @param version 1, 2, … for stored versions; {@link #IN_TRANSIT} for a value on its way to the entity
 */
public record SecretId(String tenant, String namespace, String name, int version) {
  /** Never a stored version, so a value sealed for transit cannot pass for a stored one. */
  public static final int IN_TRANSIT = 0;

  public static SecretId inTransit(String tenant, String namespace, String name) {
    return new SecretId(tenant, namespace, name, IN_TRANSIT);
  }

  @Override
  public String toString() {
    return tenant + "/" + namespace + "/" + name + (version == IN_TRANSIT ? "" : "@" + version);
  }
}

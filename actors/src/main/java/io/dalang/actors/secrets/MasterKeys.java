package io.dalang.actors.secrets;

import io.dalang.protocols.files.PrivateFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master keys of this process: the current one, which encrypts every new ciphertext, and during a
 * rotation the previous one, which only decrypts what it encrypted until
 * {@link SecretEntity.RotateMasterKey} has re-encrypted it. Every node of a cluster must load the same
 * keys: a node without the key of a ciphertext cannot read it.
 */
public final class MasterKeys {
  /** Base64 of the current key; wins over {@code dalang.secrets.master-key-file}. */
  public static final String ENV_CURRENT = "DALANG_MASTER_KEY";
  /** Base64 of the previous key; wins over {@code dalang.secrets.previous-master-key-file}. */
  public static final String ENV_PREVIOUS = "DALANG_MASTER_KEY_PREVIOUS";

  private static final Logger log = LoggerFactory.getLogger(MasterKeys.class);

  private final MasterKey current;
  private final MasterKey previous;

  private MasterKeys(MasterKey current, MasterKey previous) {
    this.current = current;
    this.previous = previous != null && !previous.id().equals(current.id()) ? previous : null;
  }

  public static MasterKeys of(MasterKey current) {
    return new MasterKeys(current, null);
  }

  /** @param previous null for none; ignored when it is the current key */
  public static MasterKeys of(MasterKey current, MasterKey previous) {
    return new MasterKeys(current, previous);
  }

  /**
   * The current key from {@link #ENV_CURRENT}, else from {@code settings.masterKeyFile()} (created with a
   * random key, readable by the owner only, when it does not exist); the previous key from
   * {@link #ENV_PREVIOUS}, else from {@code settings.previousMasterKeyFile()} when one is set (it must
   * exist). Logs the key ids and where they came from, never the keys.
   */
  public static MasterKeys load(SecretsSettings settings, Map<String, String> env) throws IOException {
    MasterKey current = present(env.get(ENV_CURRENT))
        ? MasterKey.fromBase64(env.get(ENV_CURRENT), "$" + ENV_CURRENT)
        : readOrCreate(settings.masterKeyFile());
    MasterKey previous = null;
    if (present(env.get(ENV_PREVIOUS))) {
      previous = MasterKey.fromBase64(env.get(ENV_PREVIOUS), "$" + ENV_PREVIOUS);
    } else if (settings.previousMasterKeyFile() != null) {
      previous = read(settings.previousMasterKeyFile());
    }
    var keys = new MasterKeys(current, previous);
    log.info("secrets: master key {}{}", current.id(), keys.previous().map(p -> ", previous key " + p.id() + " (until rotated)").orElse(""));
    return keys;
  }

  private static boolean present(String v) {
    return v != null && !v.isBlank();
  }

  private static MasterKey readOrCreate(Path file) throws IOException {
    if (Files.exists(file)) return read(file);
    Path dir = file.toAbsolutePath().getParent();
    if (dir != null) PrivateFiles.createDirectories(dir);
    MasterKey key = MasterKey.generate();
    try {
      PrivateFiles.createNew(file, (key.toBase64() + "\n").getBytes(StandardCharsets.US_ASCII));
    } catch (FileAlreadyExistsException e) {
      return read(file); // another process created it first: use theirs
    }
    log.warn("secrets: generated a new master key {} in {}; back this file up: without it no secret can be read", key.id(), file);
    return key;
  }

  private static MasterKey read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) throw new IOException("master key file " + file + " does not exist");
    try {
      var perms = Files.getPosixFilePermissions(file);
      if (perms.stream().anyMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS"))) {
        log.warn("secrets: master key file {} is readable by others ({}); make it 0600", file, PosixFilePermissions.toString(perms));
      }
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: nothing to check
    }
    return MasterKey.fromBase64(Files.readString(file, StandardCharsets.US_ASCII), "file " + file);
  }

  /** The key every new ciphertext is encrypted with. */
  public MasterKey current() {
    return current;
  }

  public Optional<MasterKey> previous() {
    return Optional.ofNullable(previous);
  }

  /** The key with this id, if this process has it. */
  public Optional<MasterKey> byId(String id) {
    if (current.id().equals(id)) return Optional.of(current);
    if (previous != null && previous.id().equals(id)) return Optional.of(previous);
    return Optional.empty();
  }

  @Override
  public String toString() {
    return "MasterKeys[current=" + current.id() + (previous != null ? ", previous=" + previous.id() : "") + "]";
  }
}

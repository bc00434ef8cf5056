package io.dalang.actors.secrets;

import com.typesafe.config.Config;
import java.nio.file.Path;

/**
 * {@code dalang.secrets}: where the master key files are. The keys themselves may also come from the
 * environment ({@link MasterKeys#ENV_CURRENT}, {@link MasterKeys#ENV_PREVIOUS}), read by
 * {@link MasterKeys#load} and never through the config.
 *
 * @param previousMasterKeyFile null: no previous key from a file
 */
public record SecretsSettings(Path masterKeyFile, Path previousMasterKeyFile) {

  public static SecretsSettings from(Config config, Path dataDir) {
    Config s = config.getConfig("dalang.secrets");
    String current = s.getString("master-key-file");
    String previous = s.getString("previous-master-key-file");
    return new SecretsSettings(current.isBlank() ? dataDir.resolve("master.key") : dataDir.resolve(current),
        previous.isBlank() ? null : dataDir.resolve(previous));
  }
}

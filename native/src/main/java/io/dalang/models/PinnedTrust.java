package io.dalang.models;

import java.net.Socket;
import java.security.MessageDigest;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trusts exactly one server certificate, named by the SHA-256 of its DER encoding. For a mirror on an
 * internal address with a self-signed certificate: no CA signed it and no name matches it, but an admin
 * who pinned its fingerprint knows which server they meant. Nothing else is checked, on purpose: the pin
 * is stronger than either check. It extends {@link X509ExtendedTrustManager} so that the JDK does not
 * wrap it and add a host-name check back.
 */
final class PinnedTrust extends X509ExtendedTrustManager {
  private final String pin;

  PinnedTrust(String pinnedCertSha256) {
    this.pin = pinnedCertSha256;
  }

  private void check(X509Certificate[] chain) throws CertificateException {
    if (chain == null || chain.length == 0) throw new CertificateException("the server sent no certificate");
    MessageDigest md = BlobStore.sha256();
    String actual = HexFormat.of().formatHex(md.digest(chain[0].getEncoded()));
    if (!MessageDigest.isEqual(actual.getBytes(java.nio.charset.StandardCharsets.US_ASCII),
        pin.getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
      throw new CertificateException("the server certificate " + BlobDigestMismatchException.head(actual)
          + "… is not the pinned " + BlobDigestMismatchException.head(pin) + "…");
    }
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    check(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    check(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    check(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    throw new CertificateException("a downloader trusts no clients");
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    throw new CertificateException("a downloader trusts no clients");
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    throw new CertificateException("a downloader trusts no clients");
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return new X509Certificate[0];
  }
}

package io.dalang.runtime.tls;

import io.dalang.protocols.files.PrivateFiles;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Makes and reads the X.509 material of Dalang's TLS: a certificate authority, certificates it signs,
 * PEM files. RSA 2048 with SHA-256 throughout, because Pekko's PEM-reading engine provider (cluster
 * transport) takes RSA keys only. Private keys are written 0600 ({@link PrivateFiles}) and never appear
 * in a message or log line.
 */
public final class Certificates {
  private static final SecureRandom RANDOM = new SecureRandom();

  private Certificates() {}

  /** A key with its certificate. */
  public record Issued(PrivateKey key, X509Certificate cert) {}

  /** A new self-signed certificate authority named {@code commonName}, valid for {@code validity}. */
  public static Issued newAuthority(String commonName, Duration validity) {
    KeyPair pair = rsaKeyPair();
    X500Name name = name(commonName);
    try {
      var b = builder(name, name, pair, validity);
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      b.addExtension(Extension.authorityKeyIdentifier, false, new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(pair.getPublic()));
      return new Issued(pair.getPrivate(), sign(b, pair.getPrivate()));
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("could not make a certificate authority: " + e.getMessage(), e);
    }
  }

  /**
   * A certificate for {@code commonName} signed by {@code ca}, good for both ends of a TLS connection,
   * with {@code dnsNames} and {@code ipAddresses} as subject alternative names.
   */
  public static Issued issue(Issued ca, String commonName, List<String> dnsNames, List<String> ipAddresses, Duration validity) {
    KeyPair pair = rsaKeyPair();
    try {
      var b = builder(X500Name.getInstance(ca.cert().getSubjectX500Principal().getEncoded()), name(commonName), pair, validity);
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
      b.addExtension(Extension.extendedKeyUsage, false,
          new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      b.addExtension(Extension.authorityKeyIdentifier, false, new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(ca.cert()));
      var names = new ArrayList<GeneralName>();
      for (String d : dnsNames) names.add(new GeneralName(GeneralName.dNSName, d));
      for (String ip : ipAddresses) names.add(new GeneralName(GeneralName.iPAddress, ip));
      if (!names.isEmpty()) b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
      return new Issued(pair.getPrivate(), sign(b, ca.key()));
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("could not issue a certificate for " + commonName + ": " + e.getMessage(), e);
    }
  }

  private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair pair, Duration validity)
      throws IOException, GeneralSecurityException {
    Instant now = Instant.now();
    // Back-dated an hour: a peer whose clock is a little behind still accepts a certificate made just now.
    var b = new JcaX509v3CertificateBuilder(issuer, new BigInteger(128, RANDOM), Date.from(now.minus(Duration.ofHours(1))),
        Date.from(now.plus(validity)), subject, pair.getPublic());
    b.addExtension(Extension.subjectKeyIdentifier, false, new JcaX509ExtensionUtils().createSubjectKeyIdentifier(pair.getPublic()));
    return b;
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey issuerKey) throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withRSA").build(issuerKey)));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e.getMessage(), e);
    }
  }

  private static X500Name name(String commonName) {
    return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Dalang").addRDN(BCStyle.CN, commonName).build();
  }

  private static KeyPair rsaKeyPair() {
    try {
      var g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048, RANDOM);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("RSA is not available: " + e.getMessage(), e);
    }
  }

  // PEM files

  /** Writes {@code cert} as PEM to a new file {@code f}; fails if it exists. Certificates are public, but the folder is not. */
  public static void writeCertificate(Path f, X509Certificate cert) throws IOException {
    try {
      PrivateFiles.createNew(f, pem("CERTIFICATE", cert.getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new IOException("could not encode a certificate: " + e.getMessage(), e);
    }
  }

  /** Writes {@code key} as unencrypted PKCS#8 PEM to a new file {@code f}, mode 0600; fails if it exists. */
  public static void writeKey(Path f, PrivateKey key) throws IOException {
    PrivateFiles.createNew(f, pem("PRIVATE KEY", key.getEncoded()));
  }

  private static byte[] pem(String type, byte[] der) {
    String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    return ("-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n").getBytes(StandardCharsets.US_ASCII);
  }

  /** The certificates of a PEM file, in order (a chain: the server's first). */
  public static List<X509Certificate> readCertificates(Path f) throws IOException {
    try (InputStream in = Files.newInputStream(f)) {
      var out = new ArrayList<X509Certificate>();
      for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) out.add((X509Certificate) c);
      if (out.isEmpty()) throw new IOException(f + " holds no PEM certificate");
      return out;
    } catch (GeneralSecurityException e) {
      throw new IOException(f + " is not a PEM certificate file: " + e.getMessage(), e);
    }
  }

  /** An unencrypted PEM private key: PKCS#8 ({@code PRIVATE KEY}), PKCS#1 ({@code RSA PRIVATE KEY}) or SEC1 ({@code EC PRIVATE KEY}). */
  public static PrivateKey readKey(Path f) throws IOException {
    try (var r = new PEMParser(Files.newBufferedReader(f, StandardCharsets.US_ASCII))) {
      Object o = r.readObject();
      var converter = new JcaPEMKeyConverter();
      if (o instanceof PEMKeyPair pair) return converter.getKeyPair(pair).getPrivate();
      if (o instanceof PrivateKeyInfo info) return converter.getPrivateKey(info);
    } catch (IOException | RuntimeException e) {
      // The parser's message may quote the file's content: name the file only.
      throw new IOException(f + " is not a readable PEM private key");
    }
    throw new IOException(f + " holds no unencrypted PEM private key (PKCS#8, PKCS#1 or SEC1)");
  }

  /** Key managers presenting {@code key} with {@code chain}. */
  public static javax.net.ssl.KeyManager[] keyManagers(PrivateKey key, List<X509Certificate> chain) throws GeneralSecurityException {
    var ks = emptyKeyStore();
    char[] password = new char[0]; // in memory only, never written
    try {
      ks.setKeyEntry("key", key, password, chain.toArray(X509Certificate[]::new));
    } catch (GeneralSecurityException e) {
      throw new GeneralSecurityException("the private key does not suit the certificate: " + e.getClass().getSimpleName());
    }
    var kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, password);
    return kmf.getKeyManagers();
  }

  /** Trust managers that trust {@code anchors} and nothing else. */
  public static javax.net.ssl.TrustManager[] trustManagers(List<X509Certificate> anchors) throws GeneralSecurityException {
    var ks = emptyKeyStore();
    for (int i = 0; i < anchors.size(); i++) ks.setCertificateEntry("ca" + i, anchors.get(i));
    var tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    return tmf.getTrustManagers();
  }

  private static KeyStore emptyKeyStore() throws GeneralSecurityException {
    try {
      var ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      return ks;
    } catch (IOException e) {
      throw new GeneralSecurityException(e.getMessage(), e);
    }
  }

  /** The names of this machine a local client may use: localhost, its host name, and loopback addresses. */
  static List<String> localDnsNames() {
    var names = new ArrayList<>(List.of("localhost"));
    try {
      String host = InetAddress.getLocalHost().getHostName();
      if (!names.contains(host)) names.add(host);
    } catch (IOException e) {
      // no host name: localhost is enough
    }
    return names;
  }
}

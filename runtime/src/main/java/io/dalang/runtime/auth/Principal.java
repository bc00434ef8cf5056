package io.dalang.runtime.auth;

import java.util.Map;
import java.util.Set;

/**
 * Who is calling: the tenant an API key belongs to, the key's public id, the tenant's pools and the
 * models those pools serve ({@code model id → pool id}).
 */
public record Principal(String tenantId, String keyId, Set<String> pools, Map<String, String> models) {}

/**
 * Configuration payload request and reply (RFC 7296 section 2.19): inner IPv4 and IPv6
 * addresses, DNS servers, and internal DNS domains (RFC 8598).
 */

import { ConfigAttribute, ConfigType } from '../constants.js';
import type { CpPayload } from '../payloads/configuration.js';
import type { VirtualIpConfig } from '../child-sa.js';
import type { IkeLogger } from '../transport.js';

export function buildConfigRequest(ipv4: boolean, ipv6: boolean): CpPayload {
  const empty = new Uint8Array(0);
  const attributes = [];
  if (ipv4) {
    attributes.push(
      { type: ConfigAttribute.INTERNAL_IP4_ADDRESS, value: empty },
      { type: ConfigAttribute.INTERNAL_IP4_DNS, value: empty },
    );
  }
  if (ipv6) {
    attributes.push(
      { type: ConfigAttribute.INTERNAL_IP6_ADDRESS, value: empty },
      { type: ConfigAttribute.INTERNAL_IP6_DNS, value: empty },
    );
  }
  attributes.push({ type: ConfigAttribute.INTERNAL_DNS_DOMAIN, value: empty });
  return { type: 47, configType: ConfigType.CFG_REQUEST, attributes };
}

/** Reads a CFG_REPLY; attributes with a wrong length are logged and skipped. */
export function parseConfigReply(
  payload: CpPayload | undefined,
  logger: IkeLogger,
): VirtualIpConfig {
  const config: VirtualIpConfig = { dns: [], dnsDomains: [] };
  if (payload === undefined) {
    return config;
  }
  if (payload.configType !== ConfigType.CFG_REPLY) {
    logger.warn(`ignored configuration payload of type ${payload.configType}, expected CFG_REPLY`);
    return config;
  }
  for (const { type, value } of payload.attributes) {
    const skip = (expected: string) =>
      logger.warn(
        `ignored configuration attribute ${type} of ${value.length} bytes, expected ${expected}`,
      );
    switch (type) {
      case ConfigAttribute.INTERNAL_IP4_ADDRESS:
        if (value.length === 4) {
          config.ipv4 ??= value;
        } else {
          skip('4');
        }
        break;
      case ConfigAttribute.INTERNAL_IP4_DNS:
        if (value.length === 4) {
          config.dns.push(value);
        } else {
          skip('4');
        }
        break;
      case ConfigAttribute.INTERNAL_IP6_ADDRESS:
        // RFC 7296 section 3.15.1: 16 address bytes and a prefix length of at most 128.
        if (value.length === 17 && value[16]! <= 128) {
          config.ipv6 ??= { address: value.slice(0, 16), prefixLength: value[16]! };
        } else {
          skip('17');
        }
        break;
      case ConfigAttribute.INTERNAL_IP6_DNS:
        if (value.length === 16) {
          config.dns.push(value);
        } else {
          skip('16');
        }
        break;
      case ConfigAttribute.INTERNAL_DNS_DOMAIN:
        addDnsDomain(config, value, logger);
        break;
      default:
        break;
    }
  }
  return config;
}

/** RFC 8598 section 4: a domain name in ASCII; an empty value means none. */
function addDnsDomain(config: VirtualIpConfig, value: Uint8Array, logger: IkeLogger): void {
  if (value.length === 0) {
    return;
  }
  const name = new TextDecoder().decode(value);
  if (!/^[A-Za-z0-9._-]{1,253}$/.test(name)) {
    logger.warn('ignored INTERNAL_DNS_DOMAIN that is not an ASCII domain name');
    return;
  }
  config.dnsDomains.push(name.replace(/\.$/, ''));
}

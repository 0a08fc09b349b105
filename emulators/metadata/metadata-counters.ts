import { EventEmitter } from 'node:events';
import type { MetadataRoute } from './metadata-routes';

export interface MetadataCallCounts {
  token: number;
  roleList: number;
  credentials: number;
  uri: number;
}

export interface MetadataRequestRecord {
  readonly method: string;
  readonly path: string;
  /** The request carried X-aliyun-ecs-metadata-token (valid or not). */
  readonly hadToken: boolean;
  readonly status: number;
}

/**
 * What tests assert on. `calls` counts requests as they arrive (a request held by a 'hang'
 * outage counts, one destroyed by 'refuse' never arrives); `requests` and the 'request' event
 * are for answered requests only, because only those have a status.
 */
export class MetadataCounters {
  readonly calls: MetadataCallCounts = { token: 0, roleList: 0, credentials: 0, uri: 0 };
  readonly requests: MetadataRequestRecord[] = [];
  /** 'request' (MetadataRequestRecord) per answered request; 'held' ({method, path}) per request a 'hang' outage holds. */
  readonly events = new EventEmitter();

  arrived(route: MetadataRoute): void {
    if (route !== 'other') this.calls[route] += 1;
  }

  answered(record: MetadataRequestRecord): void {
    this.requests.push(record);
    this.events.emit('request', record);
  }

  held(method: string, path: string): void {
    this.events.emit('held', { method, path });
  }

  /** Zeroes in place, so a reference to `calls` or `requests` taken earlier stays live. */
  reset(): void {
    this.calls.token = 0;
    this.calls.roleList = 0;
    this.calls.credentials = 0;
    this.calls.uri = 0;
    this.requests.length = 0;
  }
}

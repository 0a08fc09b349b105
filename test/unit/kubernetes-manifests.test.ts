import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { load, loadAll } from 'js-yaml';
import { DaemonSet, Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import request from 'supertest';
import { createApp } from '../../src/compose';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { Metrics } from '../../src/metrics';
import { FakeCredentials } from '../support/fake-credentials';
import { FakeStore } from '../support/fake-store';

/**
 * deploy/kubernetes/ (a Kustomize base and two overlays) against the Kubernetes schemas
 * (kubernetes-models validates with the OpenAPI schemas of the API), and each overlay as
 * `kubectl apply -k` would render it against the code: probe paths that the app answers, the
 * port the service listens on, environment names that src/config.ts reads and values it accepts,
 * and a termination grace period longer than the drain time.
 */
const REPO = resolve(__dirname, '..', '..');
const ROOT = join(REPO, 'deploy', 'kubernetes');
const BASE = 'base';
const STREAMING = 'overlays/streaming';
const NODE_DOWNLOADS = 'overlays/node-downloads';
const OVERLAYS = [STREAMING, NODE_DOWNLOADS];

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; [field: string]: unknown };
interface Kustomization {
  resources?: string[];
  patches?: { path: string }[];
}

// The models' constructors take their own typed shapes; the YAML is checked by validate().
const KINDS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/DaemonSet': DaemonSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

const manifestFiles = (dir: string) =>
  readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .sort();
const readManifests = (dir: string, file: string) => loadAll(readFileSync(join(ROOT, dir, file), 'utf8')) as Manifest[];
const kustomization = (dir: string) => load(readFileSync(join(ROOT, dir, 'kustomization.yaml'), 'utf8')) as Kustomization;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A strategic merge patch as far as these patches go: maps merge, everything else is replaced. */
function mergePatch(target: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(patch)) {
    if (isObject(value) && isObject(target[key])) mergePatch(target[key], value);
    else target[key] = value;
  }
}

/** What `kubectl kustomize DIR` renders, for the features these kustomizations use. */
function render(dir: string): Manifest[] {
  const { resources = [], patches = [] } = kustomization(dir);
  const rendered = resources.flatMap((r) => (r.endsWith('.yaml') ? readManifests(dir, r) : render(join(dir, r))));
  for (const patch of patches.flatMap((p) => readManifests(dir, p.path))) {
    const target = rendered.find((m) => m.kind === patch.kind && m.metadata.name === patch.metadata.name);
    if (!target) throw new Error(`${dir}: patch for ${patch.kind}/${patch.metadata.name} matches nothing`);
    mergePatch(target, patch);
  }
  return rendered;
}

const one = (manifests: Manifest[], kind: string) => {
  const found = manifests.filter((m) => m.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0] as any; // eslint-disable-line @typescript-eslint/no-explicit-any -- read field by field below
};

interface Container {
  name: string;
  command?: string[];
  ports?: { name: string; containerPort: number }[];
  env?: { name: string; value?: string }[];
  envFrom?: { configMapRef?: { name: string } }[];
  readinessProbe?: { httpGet: { path: string; port: string | number } };
  livenessProbe?: { httpGet: { path: string; port: string | number } };
  startupProbe?: { httpGet: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string }[];
}

/** The one workload an overlay runs: the Deployment or the DaemonSet. */
const workloadOf = (manifests: Manifest[]) => {
  const found = manifests.filter((m) => m.kind === 'Deployment' || m.kind === 'DaemonSet');
  if (found.length !== 1) throw new Error(`expected one workload, found ${found.length}`);
  return found[0] as any; // eslint-disable-line @typescript-eslint/no-explicit-any -- read field by field below
};
const mainContainer = (workload: { spec: { template: { spec: { containers: Container[] } } } }): Container =>
  workload.spec.template.spec.containers[0];
const configData = (manifests: Manifest[]): Record<string, string> => one(manifests, 'ConfigMap').data;
const selects = (matchLabels: Record<string, string>, labels: Record<string, string>) =>
  Object.keys(matchLabels).length > 0 && Object.entries(matchLabels).every(([k, v]) => labels[k] === v);

describe('deploy/kubernetes', () => {
  it('has every kind the issue asks for, each file of the base and the overlays valid against the Kubernetes schema', () => {
    const all = [BASE, ...OVERLAYS].flatMap((dir) => manifestFiles(dir).flatMap((f) => readManifests(dir, f)));
    expect([...new Set(all.map((m) => `${m.apiVersion}/${m.kind}`))].sort()).toEqual(Object.keys(KINDS).sort());
    for (const manifest of all) {
      const Model = KINDS[`${manifest.apiVersion}/${manifest.kind}`];
      expect(() => new Model(manifest as never).validate()).not.toThrow();
    }
  });

  it('would catch a bad manifest (the validation is real)', () => {
    const broken = JSON.parse(JSON.stringify(one(render(STREAMING), 'Deployment')));
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'eighty';
    expect(() => new Deployment(broken).validate()).toThrow(/containerPort/);
  });

  it.each([BASE, ...OVERLAYS])('lists exactly the files in its folder in %s/kustomization.yaml', (dir) => {
    const { resources = [], patches = [] } = kustomization(dir);
    const listed = [...resources.filter((r) => r.endsWith('.yaml')), ...patches.map((p) => p.path)];
    expect(listed.sort()).toEqual(manifestFiles(dir));
    expect(new Set(listed).size).toBe(listed.length);
  });

  it('builds each overlay on ../../base, and nothing else outside its folder', () => {
    for (const dir of OVERLAYS) {
      expect((kustomization(dir).resources ?? []).filter((r) => !r.endsWith('.yaml'))).toEqual(['../../base']);
    }
    expect((kustomization(BASE).resources ?? []).every((r) => r.endsWith('.yaml'))).toBe(true);
  });

  it('shares the ConfigMap, ServiceAccount, Service and NetworkPolicy in the base; each overlay adds its workload', () => {
    const kinds = (manifests: Manifest[]) => manifests.map((m) => m.kind).sort();
    expect(kinds(render(BASE))).toEqual(['ConfigMap', 'NetworkPolicy', 'Service', 'ServiceAccount']);
    expect(kinds(render(STREAMING))).toEqual([...kinds(render(BASE)), 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget'].sort());
    expect(kinds(render(NODE_DOWNLOADS))).toEqual([...kinds(render(BASE)), 'DaemonSet', 'NetworkPolicy'].sort());
  });

  describe.each(OVERLAYS)('%s, rendered', (dir) => {
    const manifests = render(dir);
    const workload = workloadOf(manifests);

    it('uses only environment variables that src/config.ts reads, with values it accepts', () => {
      const container = mainContainer(workload);
      expect(container.envFrom).toEqual([{ configMapRef: { name: one(manifests, 'ConfigMap').metadata.name } }]);
      const env = {
        ...configData(manifests),
        ...Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? ''])),
      };
      expect(Object.keys(env).filter((name) => !CONFIG_VARIABLES.includes(name))).toEqual([]);
      expect(() => loadConfig(env)).not.toThrow(); // as server.ts reads it
    });

    it('probes /readyz and /healthz on the port the service listens on, paths the app answers', async () => {
      const app = createApp({
        store: new FakeStore(),
        credentials: new FakeCredentials(),
        allow: [],
        logger: createLogger('silent'),
        metrics: new Metrics(),
      });
      const port = loadConfig(configData(manifests)).port;
      const container = mainContainer(workload);
      const named = Object.fromEntries((container.ports ?? []).map((p) => [p.name, p.containerPort]));
      expect(named).toEqual({ http: port });
      expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect((await request(app).get('/readyz')).status).toBe(200);
      expect((await request(app).get('/healthz')).status).toBe(200);
      expect(one(manifests, 'Service').spec.ports[0].targetPort).toBe('http');
    });

    it('gives pods longer to stop than the drain time, so the kubelet does not cut a drain', () => {
      const { shutdown } = loadConfig(configData(manifests));
      expect(workload.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(shutdown.drainMs);
    });

    it('runs as non-root on a read-only root filesystem with no capabilities', () => {
      expect(workload.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      expect(mainContainer(workload).securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
    });

    it('wires RRSA one way: the projected token where ALIBABA_CLOUD_OIDC_TOKEN_FILE points, no webhook annotation', () => {
      const account = one(manifests, 'ServiceAccount');
      const annotations = Object.keys(account.metadata.annotations ?? {});
      expect(annotations.filter((a) => a.startsWith('pod-identity.alibabacloud.com/'))).toEqual([]);
      expect(configData(manifests).CREDENTIALS_SOURCE).toBe('oidc_role_arn');
      const tokenFile = configData(manifests).ALIBABA_CLOUD_OIDC_TOKEN_FILE;
      const pod = workload.spec.template.spec;
      expect(pod.serviceAccountName).toBe(account.metadata.name);
      const mount = mainContainer(workload).volumeMounts?.find((m) => tokenFile.startsWith(`${m.mountPath}/`));
      const volume = pod.volumes.find((v: { name: string }) => v.name === mount?.name);
      expect(volume.projected.sources[0].serviceAccountToken).toMatchObject({
        audience: 'sts.aliyuncs.com',
        path: tokenFile.slice((mount?.mountPath.length ?? 0) + 1),
      });
    });

    it("mounts the callers' tokens Secret where AUTH_TOKENS_FILE points", () => {
      const tokensFile = configData(manifests).AUTH_TOKENS_FILE;
      const mount = mainContainer(workload).volumeMounts?.find((m) => tokensFile.startsWith(`${m.mountPath}/`));
      const volume = workload.spec.template.spec.volumes.find((v: { name: string }) => v.name === mount?.name);
      expect(volume.secret.items).toEqual([{ key: 'tokens', path: tokensFile.slice((mount?.mountPath.length ?? 0) + 1) }]);
    });

    it("points the Service and every NetworkPolicy at the workload's pods, on its http port", () => {
      const labels = workload.spec.template.metadata.labels;
      expect(selects(one(manifests, 'Service').spec.selector, labels)).toBe(true);
      const policies = manifests.filter((m) => m.kind === 'NetworkPolicy') as any[]; // eslint-disable-line @typescript-eslint/no-explicit-any
      expect(policies.length).toBeGreaterThan(0);
      for (const policy of policies) {
        expect(selects(policy.spec.podSelector.matchLabels, labels)).toBe(true);
        for (const rule of policy.spec.ingress) expect(rule.ports).toEqual([{ port: 'http', protocol: 'TCP' }]);
      }
    });
  });

  it('lets only the load balancer and Prometheus in, egress left open', () => {
    const policy = one(render(BASE), 'NetworkPolicy');
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    expect(policy.spec.ingress).toHaveLength(1);
    const peers = policy.spec.ingress[0].from;
    expect(peers).toHaveLength(2);
    for (const peer of peers) {
      expect(Object.keys(peer.namespaceSelector.matchLabels)).toEqual(['kubernetes.io/metadata.name']);
      expect(Object.keys(peer.podSelector.matchLabels).length).toBeGreaterThan(0);
    }
  });

  describe(STREAMING, () => {
    const manifests = render(STREAMING);

    it('points the Service, HPA and PDB at the Deployment pods', () => {
      const labels = one(manifests, 'Deployment').spec.template.metadata.labels;
      expect(selects(one(manifests, 'Service').spec.selector, labels)).toBe(true);
      expect(one(manifests, 'PodDisruptionBudget').spec.selector.matchLabels).toEqual(one(manifests, 'Deployment').spec.selector.matchLabels);
      expect(one(manifests, 'HorizontalPodAutoscaler').spec.scaleTargetRef).toEqual({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: one(manifests, 'Deployment').metadata.name,
      });
    });

    it('spreads the replicas across zones, then across nodes', () => {
      const deployment = one(manifests, 'Deployment');
      const spread = deployment.spec.template.spec.topologySpreadConstraints;
      expect(spread.map((c: { topologyKey: string }) => c.topologyKey)).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
      for (const constraint of spread) {
        expect(constraint.labelSelector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
      }
    });

    it('scales at the CPU target the README sizing assumes, of a whole request', () => {
      const target = one(manifests, 'HorizontalPodAutoscaler').spec.metrics[0].resource.target.averageUtilization;
      const docsDir = join(REPO, 'docs');
      const docs = ['README.md', ...(existsSync(docsDir) ? readdirSync(docsDir).map((f) => join('docs', f)) : [])]
        .filter((f) => f.endsWith('.md'))
        .map((f) => readFileSync(join(REPO, f), 'utf8'))
        .join('\n');
      const stated = [...docs.matchAll(/HPA[^.\n]{0,30}?(\d+) ?%/g)].map((m) => Number(m[1]));
      expect(stated.length).toBeGreaterThan(0);
      expect(new Set(stated)).toEqual(new Set([target]));
      // Utilization is a share of the request: the sizing counts a replica's whole vCPU.
      const { resources } = mainContainer(one(manifests, 'Deployment'));
      expect(resources?.requests?.cpu).toBe(resources?.limits?.cpu);
    });
  });

  describe(NODE_DOWNLOADS, () => {
    const manifests = render(NODE_DOWNLOADS);

    it('gives the DaemonSet the node folder (hostPath) at DOWNLOAD_ROOT', () => {
      const daemonSet = one(manifests, 'DaemonSet');
      const container = mainContainer(daemonSet);
      const root = container.env?.find((e) => e.name === 'DOWNLOAD_ROOT')?.value;
      const mount = container.volumeMounts?.find((m) => m.mountPath === root);
      const volume = daemonSet.spec.template.spec.volumes.find((v: { name: string }) => v.name === mount?.name);
      expect(volume.hostPath).toMatchObject({ path: expect.stringMatching(/^\//), type: 'DirectoryOrCreate' });
    });

    it('hands the node folder to the service user, mode 0750, before the service starts', () => {
      const daemonSet = one(manifests, 'DaemonSet');
      const pod = daemonSet.spec.template.spec;
      const root = mainContainer(daemonSet).env?.find((e) => e.name === 'DOWNLOAD_ROOT')?.value as string;
      const [init] = pod.initContainers as Container[];
      const script = (init.command ?? []).join(' ');
      // chmod first, while root still owns it: the container keeps only CAP_CHOWN.
      expect(script.indexOf(`chmodSync('${root}', 0o750)`)).toBeGreaterThanOrEqual(0);
      expect(script.indexOf(`chownSync('${root}', ${pod.securityContext.runAsUser}, ${pod.securityContext.runAsGroup})`)).toBeGreaterThan(
        script.indexOf('chmodSync'),
      );
      expect(init.securityContext).toMatchObject({ capabilities: { drop: ['ALL'], add: ['CHOWN'] } });
    });

    it('keeps callers on their own node, where the files land', () => {
      expect(one(manifests, 'Service').spec.internalTrafficPolicy).toBe('Local');
    });
  });
});

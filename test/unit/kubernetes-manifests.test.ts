import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { load, loadAll } from 'js-yaml';
import { DaemonSet, Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import request from 'supertest';
import { createApp } from '../../src/app';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { Metrics } from '../../src/metrics';
import { FakeCredentials } from '../support/fake-credentials';
import { FakeStore } from '../support/fake-store';

/**
 * deploy/kubernetes/ against the Kubernetes schemas (kubernetes-models validates with the
 * OpenAPI schemas of the API), and against the code: probe paths that the app answers, the
 * port the service listens on, environment names that src/config.ts reads and values it accepts,
 * and a termination grace period longer than the drain time.
 */
const DIR = resolve(__dirname, '..', '..', 'deploy', 'kubernetes');

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; [field: string]: unknown };

// The models' constructors take their own typed shapes; the YAML is checked by validate().
const KINDS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/DaemonSet': DaemonSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
const manifests: Manifest[] = files.flatMap((f) => loadAll(readFileSync(join(DIR, f), 'utf8')) as Manifest[]);
const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);
const one = (kind: string) => {
  const found = byKind(kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0] as any; // eslint-disable-line @typescript-eslint/no-explicit-any -- read field by field below
};

interface Container {
  name: string;
  ports?: { name: string; containerPort: number }[];
  env?: { name: string; value?: string }[];
  envFrom?: { configMapRef?: { name: string } }[];
  readinessProbe?: { httpGet: { path: string; port: string | number } };
  livenessProbe?: { httpGet: { path: string; port: string | number } };
  startupProbe?: { httpGet: { path: string; port: string | number } };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string }[];
}

const workloads = () => [one('Deployment'), one('DaemonSet')];
const mainContainer = (workload: { spec: { template: { spec: { containers: Container[] } } } }) =>
  workload.spec.template.spec.containers[0];
const configData = (): Record<string, string> => one('ConfigMap').data;

describe('deploy/kubernetes', () => {
  it('has every kind the issue asks for, each valid against the Kubernetes schema', () => {
    expect(manifests.map((m) => `${m.apiVersion}/${m.kind}`).sort()).toEqual(Object.keys(KINDS).sort());
    for (const manifest of manifests) {
      const Model = KINDS[`${manifest.apiVersion}/${manifest.kind}`];
      expect(() => new Model(manifest as never).validate()).not.toThrow();
    }
  });

  it('would catch a bad manifest (the validation is real)', () => {
    const broken = JSON.parse(JSON.stringify(one('Deployment')));
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'eighty';
    expect(() => new Deployment(broken).validate()).toThrow(/containerPort/);
  });

  it('lists every Deployment-variant file in kustomization.yaml', () => {
    const kustomization = load(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    expect(kustomization.resources.sort()).toEqual(files.filter((f) => f !== 'daemonset.yaml').sort());
  });

  it('uses only environment variables that src/config.ts reads, with values it accepts', () => {
    for (const workload of workloads()) {
      const container = mainContainer(workload);
      expect(container.envFrom).toEqual([{ configMapRef: { name: one('ConfigMap').metadata.name } }]);
      const env = { ...configData(), ...Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? ''])) };
      expect(Object.keys(env).filter((name) => !CONFIG_VARIABLES.includes(name))).toEqual([]);
      expect(() => loadConfig(env)).not.toThrow(); // as server.ts reads it
    }
  });

  it('probes /readyz and /healthz on the port the service listens on, paths the app answers', async () => {
    const app = createApp({
      store: new FakeStore(),
      credentials: new FakeCredentials(),
      allow: [],
      logger: createLogger('silent'),
      metrics: new Metrics(),
    });
    const port = loadConfig(configData()).port;
    for (const workload of workloads()) {
      const container = mainContainer(workload);
      const named = Object.fromEntries((container.ports ?? []).map((p) => [p.name, p.containerPort]));
      expect(named).toEqual({ http: port });
      expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    }
    expect((await request(app).get('/readyz')).status).toBe(200);
    expect((await request(app).get('/healthz')).status).toBe(200);
    expect(one('Service').spec.ports[0].targetPort).toBe('http');
  });

  it('gives pods longer to stop than the drain time, so the kubelet does not cut a drain', () => {
    const { shutdown } = loadConfig(configData());
    for (const workload of workloads()) {
      expect(workload.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(shutdown.drainMs);
    }
  });

  it('runs as non-root on a read-only root filesystem with no capabilities', () => {
    for (const workload of workloads()) {
      expect(workload.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      expect(mainContainer(workload).securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
    }
  });

  it('wires RRSA: the annotated ServiceAccount, and the projected token where ALIBABA_CLOUD_OIDC_TOKEN_FILE points', () => {
    const account = one('ServiceAccount');
    expect(account.metadata.annotations['pod-identity.alibabacloud.com/role-name']).toBeTruthy();
    expect(configData().CREDENTIALS_SOURCE).toBe('oidc_role_arn');
    const tokenFile = configData().ALIBABA_CLOUD_OIDC_TOKEN_FILE;
    for (const workload of workloads()) {
      const pod = workload.spec.template.spec;
      expect(pod.serviceAccountName).toBe(account.metadata.name);
      const mount = mainContainer(workload).volumeMounts?.find((m) => tokenFile.startsWith(`${m.mountPath}/`));
      const volume = pod.volumes.find((v: { name: string }) => v.name === mount?.name);
      expect(volume.projected.sources[0].serviceAccountToken).toMatchObject({
        audience: 'sts.aliyuncs.com',
        path: tokenFile.slice((mount?.mountPath.length ?? 0) + 1),
      });
    }
  });

  it('points the Service, HPA and PDB at the Deployment pods', () => {
    const labels = one('Deployment').spec.template.metadata.labels;
    expect(one('Service').spec.selector).toEqual(labels);
    expect(one('PodDisruptionBudget').spec.selector.matchLabels).toEqual(labels);
    expect(one('HorizontalPodAutoscaler').spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: one('Deployment').metadata.name,
    });
  });

  it('mounts the callers\' tokens Secret where AUTH_TOKENS_FILE points', () => {
    const tokensFile = configData().AUTH_TOKENS_FILE;
    for (const workload of workloads()) {
      const mount = mainContainer(workload).volumeMounts?.find((m) => tokensFile.startsWith(`${m.mountPath}/`));
      const volume = workload.spec.template.spec.volumes.find((v: { name: string }) => v.name === mount?.name);
      expect(volume.secret.items).toEqual([{ key: 'tokens', path: tokensFile.slice((mount?.mountPath.length ?? 0) + 1) }]);
    }
  });

  it('gives the DaemonSet the node folder (hostPath) at DOWNLOAD_ROOT', () => {
    const daemonSet = one('DaemonSet');
    const container = mainContainer(daemonSet);
    const root = container.env?.find((e) => e.name === 'DOWNLOAD_ROOT')?.value;
    const mount = container.volumeMounts?.find((m) => m.mountPath === root);
    const volume = daemonSet.spec.template.spec.volumes.find((v: { name: string }) => v.name === mount?.name);
    expect(volume.hostPath).toMatchObject({ path: expect.stringMatching(/^\//), type: 'DirectoryOrCreate' });
  });
});

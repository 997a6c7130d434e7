// Why a generator produced nothing, in terms the controller reports (src/controllers/errors.ts
// maps each reason to a catalog code). Messages name the generator, its kind and the field at
// fault, never a generated or referenced value. Failures of a remote call (AWS, Vault, a
// webhook's server) stay ProviderErrors, classified by the provider code they reuse.

export type GeneratorFailure =
  /** The generator object (or a ClusterGenerator) does not exist. */
  | 'NotFound'
  /** A kind ESO has that this build does not run. */
  | 'NotSupported'
  /** The spec asks for something the generator cannot do (names the field). */
  | 'InvalidSpec'
  /**
   * The generator's spec.controller names another controller class: as in ESO, the
   * ExternalSecret belongs to that controller and is skipped (not a failure).
   */
  | 'OtherController';

export class GeneratorError extends Error {
  readonly reason: GeneratorFailure;
  constructor(reason: GeneratorFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GeneratorError';
    this.reason = reason;
  }
}

export const generatorErrors = {
  notFound: (kind: string, name: string, namespace: string | undefined) =>
    new GeneratorError('NotFound', `${kind} ${JSON.stringify(name)}${namespace ? ` in namespace ${JSON.stringify(namespace)}` : ''} not found`),
  notSupported: (kind: string) =>
    new GeneratorError('NotSupported', `generator kind ${kind} is not supported by this build`),
  invalidSpec: (field: string, detail: string) => new GeneratorError('InvalidSpec', `${field}: ${detail}`),
};

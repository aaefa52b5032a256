// Builds the front-end bundles into web/static/dist/ (see docs/frontend.md).
//
//   npm ci && npm run build          # production build (minified)
//   node assets/build.mjs --dev      # unminified, with inline source maps
//
// Everything comes from node_modules (pinned by package-lock.json); nothing is
// fetched from a CDN at build or run time.

import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'web', 'static', 'dist');
const DEV = process.argv.includes('--dev');

/**
 * esbuild plugin: `import bpmnlintConfig from 'virtual:bpmnlint-config'`
 * yields the packed bpmnlint configuration ({ config, resolver }) compiled
 * from the repository's .bpmnlintrc, with every enabled rule bundled in.
 * This is what bpmnlint-pack-config / rollup-plugin-bpmnlint do, done with
 * bpmnlint's own compileConfig so no second bundler is needed.
 */
const bpmnlintConfigPlugin = {
  name: 'bpmnlint-config',
  setup(b) {
    b.onResolve({ filter: /^virtual:bpmnlint-config$/ }, () => ({
      path: path.join(ROOT, '.bpmnlintrc'),
      namespace: 'bpmnlint-config'
    }));
    b.onLoad({ filter: /.*/, namespace: 'bpmnlint-config' }, async (args) => {
      const compileConfig = require('bpmnlint/lib/support/compile-config');
      const NodeResolver = require('bpmnlint/lib/resolver/node-resolver');
      const config = JSON.parse(await readFile(args.path, 'utf8'));
      const resolver = new NodeResolver({
        require: createRequire(path.join(ROOT, 'package.json'))
      });
      const contents = await compileConfig(config, resolver);
      return {
        contents,
        loader: 'js',
        resolveDir: ROOT,
        watchFiles: [ args.path ]
      };
    });
  }
};

const common = {
  bundle: true,
  minify: !DEV,
  sourcemap: DEV ? 'inline' : false,
  target: [ 'es2020', 'chrome100', 'firefox100', 'safari15' ],
  format: 'iife',
  outdir: OUT,
  logLevel: 'warning',
  legalComments: 'linked',
  define: { 'process.env.NODE_ENV': DEV ? '"development"' : '"production"' },
  loader: {
    '.woff': 'file',
    '.woff2': 'file',
    '.ttf': 'file',
    '.eot': 'file',
    '.svg': 'file',
    '.png': 'file',
    '.json': 'json'
  },
  assetNames: 'assets/[name]-[hash]',
  plugins: [ bpmnlintConfigPlugin ]
};

async function main() {
  await rm(OUT, { recursive: true, force: true });
  await mkdir(OUT, { recursive: true });

  await build({
    ...common,
    entryPoints: {
      viewer: path.join(ROOT, 'assets', 'viewer.js'),
      modeler: path.join(ROOT, 'assets', 'modeler.js'),
      'form-editor': path.join(ROOT, 'assets', 'form-editor.js'),
      'dmn-editor': path.join(ROOT, 'assets', 'dmn-editor.js'),
      chart: path.join(ROOT, 'assets', 'chart.js'),
      'form-conditionals': path.join(ROOT, 'assets', 'form-conditionals.js')
    }
  });

  // htmx is shipped as the package's own minified build, unchanged.
  await copyFile(
    require.resolve('htmx.org/dist/htmx.min.js'),
    path.join(OUT, 'htmx.min.js')
  );

  // Swagger UI (the API's browsable page, /api/v1/docs): the package's own build, unchanged; started
  // by assets/api-docs.js (no inline script, for the Content-Security-Policy), with the landmarks and
  // colours axe asks for (assets/api-docs.js, assets/api-docs.css).
  await copyFile(
    require.resolve('swagger-ui-dist/swagger-ui-bundle.js'),
    path.join(OUT, 'swagger-ui-bundle.js')
  );
  await copyFile(
    require.resolve('swagger-ui-dist/swagger-ui.css'),
    path.join(OUT, 'swagger-ui.css')
  );
  await copyFile(path.join(ROOT, 'assets', 'api-docs.js'), path.join(OUT, 'api-docs.js'));
  await copyFile(path.join(ROOT, 'assets', 'api-docs.css'), path.join(OUT, 'api-docs.css'));

  console.log(`built front-end bundles into ${path.relative(ROOT, OUT)}/ (${DEV ? 'dev' : 'production'})`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

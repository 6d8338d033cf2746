// What in a production install only compiles re2's addon: node-gyp and what nothing else needs of
// its tree, nan's headers, install-artifact-from-github. The addon is built by the time the image
// is assembled, and re2 loads only that file at run time, so scripts/assemble-runtime-root.mjs
// leaves these packages out (about 8 MB). Which packages they are is computed from the lockfile
// with Node's resolution rules, so it follows the dependency tree as it changes.

/** re2's dependencies that only build its addon. */
const BUILD_ONLY = ["node-gyp", "install-artifact-from-github", "nan"];

/** Where `name`, required from the package at `from` (a lockfile path), resolves. */
function resolve(packages, from, name) {
  for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf("/node_modules/")))) {
    const candidate = dir === "" ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (packages[candidate] !== undefined) return candidate;
    if (dir === "") return undefined;
  }
}

/** Lockfile paths reachable from the manifest's dependencies, not following `skip` of re2. */
function reachable(packages, roots, skip) {
  const seen = new Set();
  const stack = roots.map((name) => resolve(packages, "", name)).filter((p) => p !== undefined);
  while (stack.length > 0) {
    const path = stack.pop();
    if (seen.has(path)) continue;
    seen.add(path);
    const entry = packages[path];
    const names = [...Object.keys(entry.dependencies ?? {}), ...Object.keys(entry.optionalDependencies ?? {})];
    for (const name of names) {
      if (path === "node_modules/re2" && skip.includes(name)) continue;
      const target = resolve(packages, path, name);
      if (target !== undefined) stack.push(target);
    }
  }
  return seen;
}

/** Lockfile paths of the packages only re2's build needs, given package-lock.json and package.json. */
export function buildOnlyPaths(lock, manifest) {
  const roots = Object.keys(manifest.dependencies ?? {});
  const all = reachable(lock.packages, roots, []);
  const kept = reachable(lock.packages, roots, BUILD_ONLY);
  return [...all].filter((path) => !kept.has(path)).sort();
}


// Packaging (electron-builder picks this file up by name). Runs on a connected machine: it needs
// Electron's zips from the internet (ENVIRONMENT.md). test/unit/electron-policy.test.ts loads it
// the way electron-builder does and checks targets, asar, files and fuses.
/** @type {import('electron-builder').Configuration} */
module.exports = {
  appId: 'org.ganstudio.app',
  productName: 'GAN Studio',
  directories: { output: 'release', buildResources: 'resources' },
  // Only the bundles, the built UI, the rater kit's built page script (copied into every exported
  // kit beside resources/rater-kit) and shipped resources; production node_modules are added by
  // electron-builder (the externals: better-sqlite3, sharp, @tensorflow/*, and their deps).
  files: ['package.json', 'dist/electron/**/*', 'dist/renderer/**/*', 'dist/rater-kit/**/*', 'resources/**/*', '!**/*.map'],
  asar: true,
  // Native modules cannot be loaded from inside an asar; the tfjs wasm binaries are read by path.
  asarUnpack: [
    '**/*.node',
    '**/node_modules/better-sqlite3/**/*',
    '**/node_modules/sharp/**/*',
    '**/node_modules/@img/**/*',
    '**/node_modules/@tensorflow/tfjs-node/**/*',
    '**/node_modules/@tensorflow/tfjs-node-gpu/**/*',
    '**/node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm',
  ],
  // better-sqlite3 is not N-API: rebuild it against Electron's ABI at packaging time.
  npmRebuild: true,
  // RELIABILITY A7. RunAsNode off is why the trainer is a utilityProcess, not child_process.fork.
  electronFuses: {
    runAsNode: false,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    onlyLoadAppFromAsar: true,
    enableEmbeddedAsarIntegrityValidation: true,
    enableCookieEncryption: true,
    grantFileProtocolExtraPrivileges: false,
    loadBrowserProcessSpecificV8Snapshot: false,
  },
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Science',
    maintainer: 'GAN Studio maintainers <gan-studio@users.noreply.github.com>',
    synopsis: 'Offline studio for training and evaluating GANs',
  },
  deb: { depends: ['libnss3', 'libgtk-3-0', 'libxss1', 'libasound2'] },
  win: { target: ['nsis'] },
  nsis: { oneClick: false, perMachine: false, allowToChangeInstallationDirectory: true },
  mac: { target: ['dmg'], category: 'public.app-category.developer-tools', hardenedRuntime: true },
};

export { awaitExport } from './await-export';

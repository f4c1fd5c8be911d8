// The dataset import methods of the API, implemented over the import service.
import type { ApiImplementation } from '../../../common/api.ts';
import type { DatasetImportService } from './import-service.ts';

export type DatasetImportMethods = Pick<ApiImplementation, 'datasets.import' | 'datasets.importStatus' | 'datasets.importCancel' | 'datasets.imports' | 'datasets.report' | 'datasets.delete'>;

export function datasetImportApi(imports: DatasetImportService): DatasetImportMethods {
  return {
    'datasets.import': async (request) => imports.start(request),
    'datasets.importStatus': async ({ importId }) => imports.status(importId),
    'datasets.importCancel': async ({ importId }) => imports.cancel(importId),
    'datasets.imports': async () => imports.list(),
    'datasets.report': async ({ datasetId }) => imports.report(datasetId),
    'datasets.delete': async ({ datasetId }) => {
      await imports.delete(datasetId);
      return { deleted: true as const, datasetId };
    },
  };
}

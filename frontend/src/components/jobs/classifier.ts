/** The result of an `ml.train_classifier` job, read from its JSON. */

export interface ClassifierResult {
  /** The share of the held-out test samples predicted right, 0 to 1. */
  accuracy: number
  nTrain: number
  nTest: number
  classes: string[]
  /** Rows: the actual class; columns: the predicted one (in `classes` order). */
  confusionMatrix: number[][]
  /** Each fold's accuracy on the training split; null when not reported. */
  crossValidation: number[] | null
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

function numbers(value: unknown): number[] | null {
  return Array.isArray(value) && value.every(isNumber) ? value : null
}

/** The result, or null when it is not the shape this kind reports. */
export function readClassifierResult(value: unknown): ClassifierResult | null {
  if (!isRecord(value) || !isNumber(value.accuracy) || !isNumber(value.n_train) || !isNumber(value.n_test)) {
    return null
  }
  const classes = Array.isArray(value.classes) ? value.classes.map(String) : null
  const rows = Array.isArray(value.confusion_matrix) ? value.confusion_matrix.map(numbers) : null
  if (!classes || !rows || rows.length !== classes.length) {
    return null
  }
  const confusionMatrix: number[][] = []
  for (const row of rows) {
    if (!row || row.length !== classes.length) {
      return null
    }
    confusionMatrix.push(row)
  }
  const folds = isRecord(value.cross_validation) ? numbers(value.cross_validation.accuracy) : null
  return {
    accuracy: value.accuracy,
    nTrain: value.n_train,
    nTest: value.n_test,
    classes,
    confusionMatrix,
    crossValidation: folds?.length ? folds : null,
  }
}

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((total, value) => total + value, 0) / values.length : Number.NaN
}

const percentFormat = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 })

/** 0.9736 -> "97.4%". */
export function percent(share: number): string {
  return percentFormat.format(share)
}

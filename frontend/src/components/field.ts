/** The props every labelled form field takes (TextField, PasswordField, SelectField). */
export interface FieldProps {
  label: string
  error?: string
  hint?: string
  required?: boolean
  /** Say "required" beside the label (the input says it to assistive technology). */
  markRequired?: boolean
  disabled?: boolean
}

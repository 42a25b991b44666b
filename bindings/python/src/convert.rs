//! Conversions between JSON values and Python objects. Records cross the boundary in
//! their wire form (camelCase keys, timestamps as epoch milliseconds); the Python
//! package turns them into dataclasses with `datetime` fields.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

/// Converts a JSON value into `None`, `bool`, `int`, `float`, `str`, `list` or `dict`.
pub fn to_python(py: Python<'_>, value: &Value) -> PyResult<Py<PyAny>> {
    let object = match value {
        Value::Null => py.None(),
        Value::Bool(flag) => PyBool::new(py, *flag).to_owned().into_any().unbind(),
        Value::Number(number) => {
            if let Some(integer) = number.as_i64() {
                integer.into_pyobject(py)?.into_any().unbind()
            } else if let Some(integer) = number.as_u64() {
                integer.into_pyobject(py)?.into_any().unbind()
            } else {
                number
                    .as_f64()
                    .unwrap_or(f64::NAN)
                    .into_pyobject(py)?
                    .into_any()
                    .unbind()
            }
        }
        Value::String(text) => PyString::new(py, text).into_any().unbind(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_python(py, item)?)?;
            }
            list.into_any().unbind()
        }
        Value::Object(entries) => map_to_python(py, entries)?.into_any().unbind(),
    };
    Ok(object)
}

/// Converts a JSON object into a `dict`.
pub fn map_to_python<'py>(
    py: Python<'py>,
    entries: &Map<String, Value>,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (key, item) in entries {
        dict.set_item(key, to_python(py, item)?)?;
    }
    Ok(dict)
}

/// Converts `None`, `bool`, `int`, `float`, `str`, lists, tuples and dicts with string
/// keys into a JSON value. Anything else raises `TypeError` naming its type.
pub fn from_python(object: &Bound<'_, PyAny>) -> PyResult<Value> {
    if object.is_none() {
        return Ok(Value::Null);
    }
    // bool is a subclass of int, so it is checked first.
    if let Ok(flag) = object.cast::<PyBool>() {
        return Ok(Value::Bool(flag.is_true()));
    }
    if object.is_instance_of::<PyInt>() {
        if let Ok(integer) = object.extract::<i64>() {
            return Ok(Value::from(integer));
        }
        return Err(PyTypeError::new_err("an integer does not fit in 64 bits"));
    }
    if let Ok(float) = object.cast::<PyFloat>() {
        let number = Number::from_f64(float.value()).ok_or_else(|| {
            PyTypeError::new_err("a float is not finite: NaN and infinity have no JSON form")
        })?;
        return Ok(Value::Number(number));
    }
    if object.is_instance_of::<PyString>() {
        return Ok(Value::String(object.extract::<String>()?));
    }
    if let Ok(dict) = object.cast::<PyDict>() {
        let mut entries = Map::new();
        for (key, item) in dict.iter() {
            let key: String = key
                .extract()
                .map_err(|_| PyTypeError::new_err("a dict key is not a string"))?;
            entries.insert(key, from_python(&item)?);
        }
        return Ok(Value::Object(entries));
    }
    if object.is_instance_of::<PyList>() || object.is_instance_of::<PyTuple>() {
        let mut items = Vec::new();
        for item in object.try_iter()? {
            items.push(from_python(&item?)?);
        }
        return Ok(Value::Array(items));
    }
    Err(PyTypeError::new_err(format!(
        "a value of type {} cannot be converted: use None, bool, int, float, str, list or dict",
        object.get_type().name()?
    )))
}
